"""Features find their classes by role: order and names of a lab's classes file do not change a number."""

import math

import numpy as np
import pytest

from oocyteseg.classes import ICSI, LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import load_classes, resolve_labels
from oocyteseg.morphometry.measure import mask_features
from oocyteseg.morphometry.table import features_table

from .shapes_util import disk, icsi_scene

REORDERED = """
name: icsi
classes:
- {name: background, color: [0, 0, 0]}
- {name: needle, color: [240, 210, 40]}
- {name: oocyte, color: [220, 60, 60]}
- {name: sERC, color: [60, 200, 90]}
"""

RENAMED = """
name: lab-icsi
classes:
- {name: bg, color: [0, 0, 0]}
- {name: pipette, color: [240, 210, 40]}
- {name: egg cell, color: [220, 60, 60]}
- {name: SER cluster, color: [60, 200, 90]}
roles: {needle: pipette, oocyte: egg cell, serc: SER cluster}
"""


def _permute(mask: np.ndarray, source: LabelSet, target: LabelSet) -> np.ndarray:
    """The same scene written with `target`'s indices (classes matched by role)."""
    lut = np.zeros(256, np.uint8)
    for role, i in source.roles.items():
        lut[i] = target.roles[role]
    return lut[mask]


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], float) and math.isnan(a[k]):
            assert math.isnan(b[k]), k
        else:
            assert a[k] == b[k], k


@pytest.mark.parametrize("text", [REORDERED, RENAMED])
def test_reordered_or_renamed_classes_give_the_same_measurements(tmp_path, text):
    path = tmp_path / "classes.yaml"
    path.write_text(text)
    other = resolve_labels(path)
    assert other.roles != ICSI.roles and set(other.roles) == {"oocyte", "serc", "needle"}
    scene = icsi_scene((300.0, 240.0), 15)
    reference = mask_features(scene, ICSI)
    assert math.isfinite(reference["f1"]) and math.isfinite(reference["f4"])
    _same(reference, mask_features(_permute(scene, ICSI, other), other))


def test_a_missing_role_leaves_its_features_absent_with_a_reason():
    no_serc = LabelSet("lab", ("background", "oocyte", "needle"), ((0, 0, 0), (1, 1, 1), (2, 2, 2)))
    scene = icsi_scene((300.0, 240.0), 0)
    scene = np.where(scene == 2, 1, np.where(scene == 3, 2, scene)).astype(np.uint8)  # sERC painted as oocyte
    f = mask_features(scene, no_serc)
    assert math.isnan(f["f1"]) and math.isnan(f["f2"])
    assert f["f3"] == pytest.approx(20, abs=1.5)  # the needle is still found, by role
    assert "no_serc_class" in f["reason"].split(";")


def test_classes_without_a_role_get_area_and_count():
    labels = LabelSet("embryo", ("background", "embryo"), ((0, 0, 0), (200, 80, 80)))
    mask = disk(20, 40, 40, (100, 120)) + disk(10, 90, 70, (100, 120))
    f = mask_features(mask.astype(np.uint8), labels, pixel_size_um=0.5)
    assert f["embryo_area"] == mask.sum() and f["embryo_count"] == 2
    assert f["embryo_area_um2"] == pytest.approx(mask.sum() * 0.25)
    assert "f1" not in f and f["reason"] == ""


def test_unknown_role_and_bad_role_target_fail_naming_the_valid_ones(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(RENAMED.replace("needle: pipette", "syringe: pipette"))
    with pytest.raises(OocytesegError, match="unknown role 'syringe'; valid: oocyte, serc, needle"):
        load_classes(bad)
    bad.write_text(RENAMED.replace("needle: pipette", "needle: trumpet"))
    with pytest.raises(OocytesegError, match="'trumpet', which is not a class"):
        load_classes(bad)
    with pytest.raises(KeyError, match="valid: oocyte"):
        ICSI.role("nucleus")


def test_features_table_uses_each_rows_label_set(tmp_path):
    path = tmp_path / "classes.yaml"
    path.write_text(REORDERED)
    other = resolve_labels(path)
    scene = icsi_scene((300.0, 240.0), 0)
    table = features_table([({"case": "a", "labels": ICSI}, scene),
                            ({"case": "b", "labels": other}, _permute(scene, ICSI, other))])
    assert table.loc[0, "f2"] == table.loc[1, "f2"] and math.isfinite(table.loc[0, "f2"])
