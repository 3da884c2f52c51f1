import math

import numpy as np
import pytest

from oocyteseg.morphometry.needle import needle_tip

from .shapes_util import fill_poly, icsi_scene, lumen_polygon, needle_polygon

ANGLES = [0, 15, 30, 90, 180, -45]


def _needle_only(tip, angle, shape=(480, 640), hollow=False, **kw):
    m = np.zeros(shape, np.uint8)
    fill_poly(m, needle_polygon(tip, angle, **kw), 1)
    if hollow:
        lumen = np.zeros(shape, np.uint8)
        fill_poly(lumen, lumen_polygon(tip, angle), 1)
        m[lumen > 0] = 0
    return m > 0


@pytest.mark.parametrize("angle", ANGLES)
@pytest.mark.parametrize("tip", [(300.0, 240.0), (251.3, 187.7)])
def test_tip_at_known_position(angle, tip):
    res = needle_tip(_needle_only(tip, angle), toward=(320.0, 240.0))
    assert res.ok, res.reasons
    assert math.hypot(res.x - tip[0], res.y - tip[1]) <= 1.5
    a = math.radians(angle)
    assert res.axis[0] * math.cos(a) + res.axis[1] * math.sin(a) > 0.99


@pytest.mark.parametrize("angle", ANGLES)
def test_hollow_tip_open_lumen(angle):
    tip = (300.4, 240.2)
    mask = _needle_only(tip, angle, hollow=True)
    assert not mask[int(round(tip[1])), int(round(tip[0]))] or angle % 90  # the opening is empty
    res = needle_tip(mask, toward=(320.0, 240.0))
    assert res.ok, res.reasons
    assert math.hypot(res.x - tip[0], res.y - tip[1]) <= 2.0


@pytest.mark.parametrize("angle", ANGLES)
def test_hollow_tip_in_full_scene(angle):
    tip = (300.0, 240.0)
    res = needle_tip(icsi_scene(tip, angle, hollow=True) == 3, toward=(320.0, 240.0))
    assert math.hypot(res.x - tip[0], res.y - tip[1]) <= 2.0


def test_direction_from_border_without_oocyte():
    # needle entering from the right border, no oocyte to point at
    res = needle_tip(_needle_only((200.0, 100.0), 180), toward=None)
    assert res.ok and abs(res.x - 200) <= 1.5 and abs(res.y - 100) <= 1.5
    assert "needle_not_at_border" not in res.reasons


def test_needle_touching_border_with_its_back_only():
    mask = _needle_only((100.0, 240.0), 0)
    assert mask[:, 0].any()
    res = needle_tip(mask, toward=(320.0, 240.0))
    assert res.ok and abs(res.x - 100) <= 1.5


def test_tip_touching_border_gives_nan():
    # a needle crossing the whole image: both ends on the border, the tip is outside the frame
    res = needle_tip(_needle_only((700.0, 240.0), 0), toward=(320.0, 240.0))
    assert not res.ok and "needle_at_border" in res.reasons
    # entering from the left border, the tip end grazing the top border
    res = needle_tip(_needle_only((300.0, 1.0), -20), toward=(320.0, 240.0))
    assert not res.ok and "needle_at_border" in res.reasons


def test_floating_needle_oriented_by_oocyte():
    m = np.zeros((300, 300), bool)
    fill_poly(m, needle_polygon((150.0, 150.0), 0, length=100), True)
    res = needle_tip(m, toward=(250.0, 150.0))
    assert res.ok and abs(res.x - 150) <= 1.5 and "needle_not_at_border" in res.reasons
    res = needle_tip(m, toward=None)
    assert not res.ok and "needle_direction_unknown" in res.reasons


def test_absent_small_and_round_needles():
    assert needle_tip(np.zeros((50, 50), bool)).reasons == ["no_needle"]
    tiny = np.zeros((50, 50), bool)
    tiny[10:13, 10:13] = True
    assert needle_tip(tiny).reasons == ["needle_too_small"]
    blob = np.zeros((50, 50), bool)
    blob[10:30, 10:30] = True
    assert needle_tip(blob).reasons == ["needle_not_elongated"]


@pytest.mark.parametrize("angle", [0, 30, -45])
def test_fragmented_needle_tip_piece_is_joined(angle):
    tip = (300.0, 240.0)
    mask = _needle_only(tip, angle)
    a = math.radians(angle)
    u = np.array([math.cos(a), math.sin(a)])
    yy, xx = np.mgrid[:480, :640]
    along = (xx - tip[0]) * u[0] + (yy - tip[1]) * u[1]
    mask[(along > -45) & (along < -25)] = False  # the segmentation lost 20 px of the shaft
    res = needle_tip(mask, toward=(320.0, 240.0))
    assert "needle_fragmented" in res.reasons
    assert math.hypot(res.x - tip[0], res.y - tip[1]) <= 1.5


def test_speck_off_the_axis_is_not_a_tip():
    mask = _needle_only((300.0, 240.0), 0)
    mask[100:104, 320:324] = True  # beyond the tip but far from the axis
    res = needle_tip(mask, toward=(320.0, 240.0))
    assert "needle_fragmented" not in res.reasons and abs(res.x - 300) <= 1.5
