import numpy as np
import pytest
from scipy import ndimage

from oocyteseg.phantom.inclusions import render_closeup
from oocyteseg.phantom.params import sample_case
from oocyteseg.phantom.geometry import needle_state
from oocyteseg.phantom.render import NEEDLE, OOCYTE, SERC, render_frame


def test_same_seed_same_frame_and_different_seed_differs():
    a_img, a_mask = render_frame(sample_case(11, "a"), 0.5, frame_index=12)
    b_img, b_mask = render_frame(sample_case(11, "a"), 0.5, frame_index=12)
    c_img, c_mask = render_frame(sample_case(12, "a"), 0.5, frame_index=12)
    assert np.array_equal(a_img, b_img) and np.array_equal(a_mask, b_mask)
    assert not np.array_equal(a_img, c_img) and not np.array_equal(a_mask, c_mask)


def test_frame_shapes_types_and_classes():
    img, mask = render_frame(sample_case(5, "c"), 0.7)
    assert img.shape == (480, 640, 3) and img.dtype == np.uint8
    assert mask.shape == (480, 640) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1, 2, 3}
    assert (mask == OOCYTE).sum() > 0.1 * mask.size  # a large oocyte fills the field
    assert (mask == NEEDLE).sum() > 200


def test_serc_lies_inside_the_ooplasm():
    for seed in range(8):
        case = sample_case(seed, "c")
        if case.serc is None:
            continue
        _, mask = render_frame(case, 0.1)
        serc = mask == SERC
        oocyte_region = ndimage.binary_fill_holes((mask == OOCYTE) | serc)
        assert serc.any() and not (serc & ~oocyte_region).any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_needle_walls_differ_from_the_background_they_cover(seed):
    case = sample_case(seed, "c")
    with_needle, mask = render_frame(case, 0.3, noise=False)
    without, _ = render_frame(case, 0.3, noise=False, draw_needle=False)
    needle = mask == NEEDLE
    walls = needle & ~ndimage.binary_erosion(needle, iterations=2)
    diff = np.abs(with_needle.astype(float) - without.astype(float)).mean(axis=2)
    assert diff[walls].mean() > 4.0  # grey levels: the wall is visibly different from what it covers
    assert diff[~ndimage.binary_dilation(needle, iterations=6)].max() <= 2.0  # nothing else changed (blur spreads edges)


def test_needle_approaches_indents_then_enters():
    case = sample_case(4, "c")
    n = case.needle
    before = needle_state(case, 0.05, 4.0)
    indenting = needle_state(case, n.t_break - 0.01, 4.0)
    inside = needle_state(case, (n.t_break + n.t_deepest) / 2, 4.0)
    assert before.indentation == 0 and not before.broken
    assert indenting.indentation > 0.15 * case.oocyte.radius and not indenting.broken
    assert inside.broken
    # the tip moves towards the oocyte centre over time
    c = np.array([case.oocyte.cx, case.oocyte.cy])
    dists = [np.hypot(*(np.array(s.tip) - c)) for s in (before, indenting, inside)]
    assert dists[0] > dists[1] > dists[2]
    # while indenting, the tip sits on the dented oolemma: the oocyte mask touches the needle tip
    _, mask = render_frame(case, n.t_break - 0.01, duration_s=4.0, frame_index=0)


def test_cases_vary():
    cases = [sample_case(s, "c") for s in range(6)]
    assert len({round(c.oocyte.radius) for c in cases}) > 3
    assert len({round(c.needle.angle, 3) for c in cases}) == 6
    assert len({round(c.optics.background) for c in cases}) > 3


def test_inclusion_counts_and_diameters():
    counts, diameters = [], []
    for seed in range(60):
        img, mask, spots = render_closeup(seed)
        assert img.shape == (256, 256, 3) and mask.shape == (256, 256)
        assert set(np.unique(mask)) <= {0, 1}
        labels, n = ndimage.label(mask)
        assert n == len(spots)  # spots never touch
        counts.append(len(spots))
        for s in spots:
            assert 2.0 <= s.diameter <= 7.0
            comp = labels[int(round(s.y)), int(round(s.x))]
            area = (labels == comp).sum()
            eq_d = 2 * np.sqrt(area / np.pi)
            assert abs(eq_d - s.diameter) < 1.0, (s, eq_d)
            diameters.append(s.diameter)
    assert min(counts) == 0 and max(counts) == 5
    assert min(diameters) < 3 and max(diameters) > 6


def test_inclusions_are_darker_than_their_surroundings():
    img, mask, spots = render_closeup(7, count=5)
    grey = img.mean(axis=2)
    ring = ndimage.binary_dilation(mask, iterations=4) & ~ndimage.binary_dilation(mask, iterations=2)
    assert grey[mask > 0].mean() < grey[ring].mean() - 10
