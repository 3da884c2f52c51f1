"""Classes files: the shipped YAML equals the built-ins, aliases match, bad files give one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from oocyteseg.classes import ICSI, INCLUSIONS
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import BUILTIN, as_classes, load_classes

CONFIGS = Path(__file__).parents[2] / "configs"


@pytest.mark.parametrize("name,labels", [("icsi", ICSI), ("inclusions", INCLUSIONS)])
def test_shipped_files_equal_the_builtins_and_label_sets(name, labels):
    c = load_classes(CONFIGS / f"classes-{name}.yaml")
    assert c == BUILTIN[name] == load_classes(name) == as_classes(labels)
    assert c.label_set() == labels


def test_aliases_and_case_insensitive_matching():
    c = load_classes(CONFIGS / "classes-icsi.yaml")
    for label in ("sERC", "serc", "SER", "Ser", " sercs ", "smooth-ER cluster"):
        assert c.lookup(label) == 2, label
    assert c.lookup("Injection_Needle") == 3 and c.lookup("OOCYTE") == 1 and c.lookup("_background_") == 0
    assert c.lookup("nucleus") is None
    assert c.is_hole("Hole") and not c.is_hole("needle")
    assert c.draw_indices() == [0, 1, 2, 3]


def _write(tmp_path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


GOOD = """name: demo
classes:
  - {name: background, color: [0, 0, 0]}
  - {name: a, color: [255, 0, 0], aliases: [alpha]}
  - {name: b, color: [0, 255, 0]}
"""


def test_draw_order_changes_painting_order(tmp_path):
    c = load_classes(_write(tmp_path, GOOD + "draw_order: [b, alpha]\n"))
    assert c.draw_indices() == [0, 2, 1]


@pytest.mark.parametrize("extra,needle", [
    ("draw_order: [a]\n", "draw_order"),
    ("draw_order: [a, b, zz]\n", "unknown class"),
    ("hole_labels: [alpha]\n", "also a class"),
    ("colour_depth: 8\n", "colour_depth"),
])
def test_invalid_classes_files(tmp_path, extra, needle):
    with pytest.raises(OocytesegError, match=needle) as info:
        load_classes(_write(tmp_path, GOOD + extra))
    assert "c.yaml" in str(info.value) and "Fix:" in str(info.value)


def test_duplicate_alias_colour_and_syntax_errors(tmp_path):
    dup = GOOD.replace("aliases: [alpha]", "aliases: [B]")
    with pytest.raises(OocytesegError, match="both"):
        load_classes(_write(tmp_path, dup))
    with pytest.raises(OocytesegError, match="share a colour"):
        load_classes(_write(tmp_path, GOOD.replace("[0, 255, 0]", "[255, 0, 0]")))
    with pytest.raises(OocytesegError, match="0..255"):
        load_classes(_write(tmp_path, GOOD.replace("[0, 255, 0]", "[0, 256, 0]")))
    with pytest.raises(OocytesegError, match="YAML"):
        load_classes(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(OocytesegError, match="not found"):
        load_classes(tmp_path / "nope.yaml")
