"""Anatomy features: golden values on concentric disks, classes found by role, reasons when missing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oocyteseg.classes import OOCYTE_ANATOMY, LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.morphometry import anatomy_features

CX, CY = 150.3, 140.6
R_OOPLASM, R_ZONA_IN, R_ZONA_OUT = 80.0, 88.0, 105.0  # zona thickness 17 px


def _disk(r: float, x: float = CX, y: float = CY, shape: tuple[int, int] = (300, 310)) -> np.ndarray:
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return (xs - x) ** 2 + (ys - y) ** 2 <= r * r


def _oocyte(pb_clock_deg: float | None = None, pb_dist: float = 86.0, pb_r: float = 8.0) -> np.ndarray:
    """Concentric zona / PVS / ooplasm, and a polar body at a clock angle (0 = up, clockwise on screen)."""
    mask = np.zeros((300, 310), np.uint8)
    mask[_disk(R_ZONA_OUT)] = 1
    mask[_disk(R_ZONA_IN)] = 2
    if pb_clock_deg is not None:
        a = math.radians(pb_clock_deg)
        mask[_disk(pb_r, CX + pb_dist * math.sin(a), CY - pb_dist * math.cos(a))] = 4
    mask[_disk(R_OOPLASM)] = 3
    return mask


def test_concentric_disks_give_areas_thickness_and_no_polar_body():
    f = anatomy_features(_oocyte(), OOCYTE_ANATOMY, pixel_size_um=0.5)
    assert abs(f["zona_thickness_mean"] - (R_ZONA_OUT - R_ZONA_IN)) <= 1.0
    assert f["zona_thickness_sd"] < 0.6 and f["zona_thickness_angles"] == 360
    assert f["whole_oocyte_area"] == pytest.approx(math.pi * R_ZONA_OUT ** 2, rel=0.01)
    assert abs(f["whole_oocyte_eq_diameter"] - 2 * R_ZONA_OUT) < 1.0
    assert f["zona_area"] == pytest.approx(math.pi * (R_ZONA_OUT ** 2 - R_ZONA_IN ** 2), rel=0.02)
    assert f["pvs_area"] == pytest.approx(math.pi * (R_ZONA_IN ** 2 - R_OOPLASM ** 2), rel=0.03)
    assert f["ooplasm_area"] == pytest.approx(math.pi * R_OOPLASM ** 2, rel=0.01)
    assert abs(f["ooplasm_eq_diameter"] - 2 * R_OOPLASM) < 1.0
    assert f["polar_body_present"] == 0 and f["polar_body_count"] == 0 and f["polar_body_area"] == 0
    assert math.isnan(f["polar_body_angle_deg"])
    assert f["reason"] == "no_polar_body"
    assert f["zona_thickness_mean_um"] == pytest.approx(0.5 * f["zona_thickness_mean"])
    assert f["zona_area_um2"] == pytest.approx(0.25 * f["zona_area"])


@pytest.mark.parametrize("clock", [0.0, 45.0, 135.0, 250.0, 330.0])
def test_polar_body_clock_angle_and_area(clock):
    f = anatomy_features(_oocyte(clock), OOCYTE_ANATOMY)
    assert f["polar_body_present"] == 1 and f["polar_body_count"] == 1 and f["reason"] == ""
    diff = (f["polar_body_angle_deg"] - clock + 180) % 360 - 180
    assert abs(diff) < 3.0, f["polar_body_angle_deg"]
    a = math.radians(clock)
    pb = _disk(8.0, CX + 86.0 * math.sin(a), CY - 86.0 * math.cos(a))
    assert f["polar_body_area"] == (pb & ~_disk(R_OOPLASM)).sum() > 0.8 * math.pi * 8 ** 2  # the ooplasm hides a sliver
    # the polar body eats into the zona (pb_dist + pb_r > R_ZONA_IN): those angles are skipped
    assert abs(f["zona_thickness_mean"] - (R_ZONA_OUT - R_ZONA_IN)) <= 1.0
    assert f["zona_thickness_angles"] < 360


def test_two_polar_bodies_are_counted():
    mask = _oocyte(90.0)
    mask[_disk(6, CX - 84, CY) & (mask == 2)] = 4
    f = anatomy_features(mask, OOCYTE_ANATOMY)
    assert f["polar_body_count"] == 2 and "multiple_polar_body" in f["reason"]


def test_reordered_classes_file_gives_identical_features():
    order = ("background", "polar body", "ooplasm", "zona", "PVS")  # another index order, same classes
    reordered = LabelSet("anatomy-reordered", order, tuple(OOCYTE_ANATOMY.colors[OOCYTE_ANATOMY.index(c)]
                                                           for c in order))
    mask = _oocyte(200.0)
    lut = np.array([order.index(c) for c in OOCYTE_ANATOMY.classes], np.uint8)  # old index -> new index
    a = anatomy_features(mask, OOCYTE_ANATOMY, 0.3)
    b = anatomy_features(lut[mask], reordered, 0.3)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]), k  # equal, or both NaN


def test_role_missing_from_the_label_set_gives_nan_and_reason():
    no_pb = LabelSet("no-pb", ("background", "zona", "PVS", "ooplasm"), OOCYTE_ANATOMY.colors[:4])
    f = anatomy_features(_oocyte(), no_pb)
    assert math.isnan(f["polar_body_present"]) and math.isnan(f["polar_body_area"])
    assert "no_polar_body_class" in f["reason"].split(";")
    assert abs(f["zona_thickness_mean"] - 17) <= 1.0

    no_zona = LabelSet("no-zona", ("background", "PVS", "ooplasm"), OOCYTE_ANATOMY.colors[:3])
    mask = np.where(_oocyte() == 1, 0, _oocyte() - 1).astype(np.uint8)
    f = anatomy_features(mask, no_zona)
    assert "no_zona_class" in f["reason"].split(";") and "no_polar_body_class" in f["reason"].split(";")
    assert math.isnan(f["zona_thickness_mean"]) and math.isnan(f["whole_oocyte_area"])
    assert f["ooplasm_area"] == pytest.approx(math.pi * R_OOPLASM ** 2, rel=0.01)


def test_empty_mask_measures_nothing_and_says_why():
    f = anatomy_features(np.zeros((50, 60), np.uint8), OOCYTE_ANATOMY)
    assert set(f["reason"].split(";")) == {"no_zona", "no_pvs", "no_ooplasm", "no_polar_body"}
    assert math.isnan(f["zona_thickness_mean"]) and math.isnan(f["whole_oocyte_area"])
    assert f["polar_body_present"] == 0


def test_oocyte_cut_by_the_image_border_is_flagged_and_border_is_no_zona_edge():
    mask = _oocyte()[:, 100:]  # the left part of the oocyte is outside the image
    f = anatomy_features(mask, OOCYTE_ANATOMY)
    assert "oocyte_at_border" in f["reason"]
    assert abs(f["zona_thickness_mean"] - 17) <= 1.0 and f["zona_thickness_angles"] < 360


def test_unknown_labels_and_bad_shape():
    mask = _oocyte()
    mask[0, 0] = 7
    assert "unknown_labels" in anatomy_features(mask, OOCYTE_ANATOMY)["reason"]
    with pytest.raises(OocytesegError):
        anatomy_features(np.zeros((2, 3, 4), np.uint8), OOCYTE_ANATOMY)
