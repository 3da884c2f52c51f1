import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from oocyteseg.errors import OocytesegError
from oocyteseg.morphometry.features import frame_features, inclusion_features, oocyte_region

from .shapes_util import disk, icsi_scene


def _reasons(f):
    return set(filter(None, f["reason"].split(";")))


@pytest.mark.parametrize("angle", [0, 15, 30, 90, 180, -45])
def test_shimotsu_features_on_analytic_scene(angle):
    f = frame_features(icsi_scene((300.0, 240.0), angle))
    oocyte_px = disk(150, 320, 240, (480, 640)).sum()
    serc_px = disk(30, 350, 200, (480, 640)).sum()
    # the needle lying over the oocyte is counted in S_o: the whole disk is the oocyte
    assert f["oocyte_area"] == pytest.approx(oocyte_px, rel=0.002)
    assert f["oocyte_cx"] == pytest.approx(320, abs=0.3) and f["oocyte_cy"] == pytest.approx(240, abs=0.3)
    assert f["f1"] == pytest.approx(1.0, abs=0.02) and f["f1"] <= 1.0
    assert f["f2"] == pytest.approx(serc_px / oocyte_px, rel=0.005)
    assert f["f3"] == pytest.approx(320 - 300, abs=1.5)
    assert f["f4"] == pytest.approx(240 - 240, abs=1.5)
    assert f["tip_to_oolemma"] == pytest.approx(150 - math.hypot(20, 0), abs=1.5)
    assert f["serc_count"] == 1 and f["reason"] == ""


def test_penetration_depth_along_axis():
    f = frame_features(icsi_scene((300.0, 240.0), 0))
    assert f["penetration_depth"] == pytest.approx(130, abs=1.5)  # entry at x = 170
    f = frame_features(icsi_scene((320.0, 200.0), 90))  # from the top: entry at y = 90
    assert f["penetration_depth"] == pytest.approx(110, abs=1.5)
    outside = frame_features(icsi_scene((150.0, 240.0), 0))
    assert outside["penetration_depth"] == 0.0
    assert outside["tip_to_oolemma"] == pytest.approx(-20, abs=1.5)


def test_hollow_needle_inside_oocyte_is_filled_into_the_region():
    m = icsi_scene((300.0, 240.0), 30, hollow=True)
    region, count = oocyte_region(m)
    assert count == 1
    assert int(region.sum()) == pytest.approx(int(disk(150, 320, 240, m.shape).sum()), rel=0.002)
    f = frame_features(m)
    assert math.hypot(f["f3"] - 20, f["f4"]) <= 2.0


@pytest.mark.parametrize("kw,missing,reason", [
    (dict(serc=False), ["f1", "f2"], "no_serc"),
    (dict(needle=False), ["f3", "f4"], "no_needle"),
    (dict(oocyte=False, serc=False), ["f1", "f2", "f3", "f4"], "no_oocyte"),
])
def test_absent_structures_give_nan_and_reason(kw, missing, reason):
    f = frame_features(icsi_scene(**kw))
    assert reason in _reasons(f)
    for key in missing:
        assert math.isnan(f[key])
    for key in {"f1", "f2", "f3", "f4"} - set(missing):
        assert math.isfinite(f[key])


def test_empty_mask():
    f = frame_features(np.zeros((48, 64), np.uint8))
    assert _reasons(f) == {"no_oocyte", "no_serc", "no_needle"}
    assert all(math.isnan(f[k]) for k in ("f1", "f2", "f3", "f4"))


def test_multiple_serc_uses_largest_and_reports_all():
    m = icsi_scene(needle=False)
    m[disk(8, 250, 300, m.shape) > 0] = 2
    f = frame_features(m)
    areas = [int(a) for a in f["serc_areas"].split(";")]
    assert f["serc_count"] == 2 and areas[0] > areas[1]
    assert f["serc_area"] == areas[0] and f["serc_area_total"] == sum(areas)
    assert "multiple_serc" in _reasons(f)


def test_small_serc_has_no_circularity():
    m = icsi_scene(serc=False, needle=False)
    m[240:243, 300:303] = 2
    f = frame_features(m)
    assert "serc_too_small" in _reasons(f) and math.isnan(f["f1"]) and math.isfinite(f["f2"])


def test_circularity_never_above_one_unflagged():
    for r in (2, 3, 4, 6, 9):
        m = np.zeros((60, 60), np.uint8)
        m[disk(25, 30, 30, m.shape) > 0] = 1
        m[disk(r, 30.3, 29.6, m.shape) > 0] = 2
        f = frame_features(m)
        if r == 2:  # 13 px, below MIN_SERC_PX_FOR_F1: no circularity, and the reason says why
            assert math.isnan(f["f1"]) and "serc_too_small" in _reasons(f)
            continue
        assert 0.5 < f["f1"] <= 1.0  # a digitised disk is nearly round: defined, never above one
        if f["f1_raw"] > 1.0:
            assert "circularity_clamped" in _reasons(f) and f["f1"] == 1.0


def test_micrometre_columns():
    f = frame_features(icsi_scene(), pixel_size_um=0.5)
    assert f["oocyte_area_um2"] == pytest.approx(f["oocyte_area"] * 0.25)
    assert f["f3_um"] == pytest.approx(f["f3"] * 0.5)
    assert f["oocyte_eq_diameter_um"] == pytest.approx(150, rel=0.01)
    assert "f3_um" not in frame_features(icsi_scene())


def test_bad_input_raises_project_error():
    with pytest.raises(OocytesegError):
        frame_features(np.zeros((4, 4, 3), np.uint8))


def test_unknown_labels_flagged():
    m = icsi_scene()
    m[0:3, 0:3] = 7
    assert "unknown_labels" in _reasons(frame_features(m))


def test_inclusion_features():
    m = np.zeros((256, 256), np.uint8)
    m[disk(20, 80, 80, m.shape) > 0] = 1
    m[disk(10, 180, 180, m.shape) > 0] = 1
    f = inclusion_features(m, pixel_size_um=2.0)
    assert f["inclusion_count"] == 2 and f["reason"] == ""
    assert f["inclusion_area_largest"] == pytest.approx(math.pi * 400, rel=0.02)
    assert f["inclusion_eq_diameter_largest"] == pytest.approx(40, rel=0.01)
    assert f["inclusion_circularity_largest"] == pytest.approx(1, abs=0.02)
    assert f["inclusion_area_fraction"] == pytest.approx(m.sum() / m.size)
    assert f["inclusion_area_total_um2"] == pytest.approx(4 * m.sum())
    empty = inclusion_features(np.zeros((256, 256), np.uint8))
    assert empty["inclusion_count"] == 0 and empty["reason"] == "no_inclusion"
    assert math.isnan(empty["inclusion_area_largest"])


@settings(max_examples=150, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.integers(0, 4)),
       st.one_of(st.none(), st.floats(0.1, 5.0)))
def test_never_raises_on_random_label_masks(mask, px):
    f = frame_features(mask, pixel_size_um=px)
    assert isinstance(f["reason"], str)
    for key in ("f1", "f2", "f3", "f4"):
        assert isinstance(f[key], float)
    assert math.isnan(f["f1"]) or 0 < f["f1"] <= 1.0
    inclusion_features(mask % 2)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3), st.integers(2, 30), st.integers(2, 30), st.integers(0, 2 ** 32 - 1))
def test_never_raises_on_blobby_masks(n_labels, h, w, seed):
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(n_labels * 3):
        y, x = rng.integers(0, h), rng.integers(0, w)
        mask[y:y + rng.integers(1, 12), x:x + rng.integers(1, 12)] = rng.integers(1, 4)
    frame_features(mask)
