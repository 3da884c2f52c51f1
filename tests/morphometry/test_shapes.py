import math

import cv2
import numpy as np
import pytest

from oocyteseg.morphometry.shapes import (circularity, components, contour_length_area, fill_holes,
                                          largest_region, moments_ellipse)
from .shapes_util import disk, ellipse

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("r", [3, 5, 8, 12, 20, 40, 80])
def test_disk_area_and_circularity(r):
    for _ in range(5):
        cx, cy = r + 8 + RNG.random(), r + 8 + RNG.random()
        m = disk(r, cx, cy, (2 * r + 18, 2 * r + 18))
        count = m.sum()
        # pixel count of a digitised disk: within 4% for r >= 5, 1% for r >= 20 (measured worst cases)
        tol = 0.12 if r < 5 else (0.04 if r < 20 else 0.01)
        assert abs(count - math.pi * r * r) <= tol * math.pi * r * r
        length, area = contour_length_area(m)
        c = circularity(length, area)
        assert c <= 1.0  # same-polygon length and area: isoperimetric inequality
        if r >= 8:
            assert c == pytest.approx(1.0, abs=0.02)
            assert length == pytest.approx(2 * math.pi * r, rel=0.03)
        else:
            assert c > 0.95


@pytest.mark.parametrize("a,b,angle", [(40, 25, 0), (40, 25, 30), (60, 20, -45), (30, 30, 0), (50, 10, 90)])
def test_moments_ellipse_axes(a, b, angle):
    m = ellipse(a, b, angle, 100.3, 90.6, (200, 200))
    cx, cy, major, minor, orientation = moments_ellipse(m)
    assert cx == pytest.approx(100.3, abs=0.05) and cy == pytest.approx(90.6, abs=0.05)
    assert major == pytest.approx(2 * a, rel=0.01)
    assert minor == pytest.approx(2 * b, rel=0.02)
    if a != b:
        diff = (orientation - angle + 90) % 180 - 90
        assert abs(diff) < 1.0


def test_ellipse_circularity_matches_ramanujan():
    a, b = 30, 10
    h = ((a - b) / (a + b)) ** 2
    perimeter = math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
    expected = 4 * math.pi * math.pi * a * b / perimeter ** 2
    for angle in (0, 20, 45):
        c = circularity(*contour_length_area(ellipse(a, b, angle, 60.4, 60.2, (120, 120))))
        assert c == pytest.approx(expected, rel=0.03)


def test_components_sorted_and_offsets():
    m = np.zeros((50, 60), np.uint8)
    m[10:14, 40:44] = 1  # 16 px
    m[30:40, 5:15] = 1  # 100 px
    m[0, 59] = 1  # 1 px in a corner
    comps = components(m)
    assert comps.count == 3
    assert list(comps.areas) == [100, 16, 1]
    assert tuple(comps.bboxes[0]) == (5, 30, 10, 10)
    crop, x0, y0 = comps.crop(1)
    assert (x0, y0) == (40, 10) and crop.sum() == 16
    crop, x0, y0 = comps.crop(2)  # the corner pixel, at its place in the image
    assert (x0, y0) == (59, 0) and crop.shape == (1, 1) and crop.sum() == 1
    np.testing.assert_allclose(comps.centroids[0], [9.5, 34.5])
    assert components(np.zeros((5, 5), bool)).count == 0


def test_fill_holes_and_largest_region():
    m = np.zeros((40, 40), np.uint8)
    m[5:25, 5:25] = 1
    m[10:15, 10:15] = 0  # hole
    m[30:33, 30:33] = 1
    filled = fill_holes(m)
    assert filled.dtype == np.uint8 and filled[12, 12] == 1 and filled.sum() == 400 + 9  # only the hole
    crop, x0, y0, count, outline = largest_region(m)
    assert count == 2 and (x0, y0) == (5, 5) and crop.sum() == 400
    assert largest_region(np.zeros((4, 4), np.uint8))[0] is None


def test_thin_line_falls_back_to_unblurred_contour():
    m = np.zeros((20, 40), np.uint8)
    m[10, 5:35] = 1  # 1 px wide: vanishes under the blur
    length, area = contour_length_area(m)
    assert length > 55 and area > 0


def test_fill_holes_is_scipys_binary_fill_holes():
    from scipy.ndimage import binary_fill_holes

    rng = np.random.default_rng(0)
    for _ in range(200):
        m = cv2.GaussianBlur((rng.random((30, 40)) < 0.5).astype(np.float32), (0, 0), 1.2) > 0.45
        assert np.array_equal(fill_holes(m), binary_fill_holes(m).astype(np.uint8))
