"""Data flows one way: a package imports only from packages in an earlier (or the same) layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oocyteseg

PACKAGE = Path(oocyteseg.__file__).parent

# Layer of each top-level module or package. Pipelines wire reports into whole jobs, so reports come
# before pipelines; the GAN (synth) trains on the training engine, so it comes after training.
LAYERS: dict[str, int] = {
    "errors": 0, "classes": 0, "devices": 0, "progress": 0, "injection_modes": 0,
    "io": 1,
    "phantom": 2, "data": 2,
    "models": 3,
    "training": 4,
    "synth": 5,
    "evaluation": 6, "morphometry": 6,
    "inference": 7,
    "reports": 8,
    "pipelines": 9,
    "web": 10,
    "cli": 11,
}


def _top(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """Top-level oocyteseg modules a file imports (module-level and function-level imports alike)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        found |= {n.split(".")[1] for n in names if n.startswith("oocyteseg.")}
    return found


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py" and _top(p) != "__init__")


def test_every_module_has_a_layer():
    unknown = {_top(p) for p in _sources()} - set(LAYERS)
    assert not unknown, f"give these modules a layer in LAYERS: {sorted(unknown)}"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_to_earlier_layers(path: Path):
    here = _top(path)
    later = sorted(t for t in _imports(path) if t != here and LAYERS.get(t, 99) > LAYERS[here])
    assert not later, f"{path.relative_to(PACKAGE)} ({here}) imports from a later layer: {later}"


def test_the_check_catches_an_arrow_pointing_back(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from oocyteseg.cli.main import app\n")
    assert "cli" in _imports(bad)
