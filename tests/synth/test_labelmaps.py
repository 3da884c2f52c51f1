"""Label-map samplers: the paper's spot statistics, exact disks, allowed regions, ICSI scene rules."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from oocyteseg.errors import OocytesegError
from oocyteseg.synth import IcsiSamplerConfig, InclusionSamplerConfig, map_rng, sample_icsi_map, sample_inclusion_map
from oocyteseg.synth.labelmaps import sample_label_map
from oocyteseg.synth.shapes import disk_footprint, ellipse_mask, equivalent_diameter

EIGHT = np.ones((3, 3), bool)


@pytest.mark.parametrize("d", range(1, 12))
def test_disk_footprint_matches_its_diameter(d: int) -> None:
    fp = disk_footprint(d)
    assert fp.shape == (d, d)
    assert abs(equivalent_diameter(fp.sum()) - d) < 0.5
    assert (fp == fp[::-1]).all() and (fp == fp.T).all()  # symmetric


def test_inclusion_maps_follow_the_paper() -> None:
    counts, diameters = Counter(), Counter()
    for i in range(400):
        lm = sample_inclusion_map(map_rng(7, i))
        assert lm.mask.shape == (256, 256) and lm.mask.dtype == np.uint8
        assert set(np.unique(lm.mask)) <= {0, 1}
        labels, n = ndimage.label(lm.mask, structure=EIGHT)
        assert n == len(lm.objects)  # one 8-connected component per spot: spots never overlap or touch
        counts[n] += 1
        for obj in lm.objects:
            diameters[obj["diameter"]] += 1
            component = labels == labels[int(obj["cy"]), int(obj["cx"])]
            assert component.sum() == obj["area"] == disk_footprint(obj["diameter"]).sum()
            assert abs(equivalent_diameter(component.sum()) - obj["diameter"]) <= 1.0
            ys, xs = np.nonzero(component)
            assert math.isclose(ys.mean(), obj["cy"]) and math.isclose(xs.mean(), obj["cx"])
    assert set(counts) == {1, 2, 3, 4, 5}
    assert set(diameters) == {2, 3, 4, 5, 6, 7}


def test_spots_stay_inside_the_allowed_region() -> None:
    within = ellipse_mask((256, 256), (128.0, 128.0), (60.0, 40.0), 30.0).astype(np.uint8) * 3  # index mask
    for i in range(100):
        mask = sample_inclusion_map(map_rng(1, i), within=within).mask
        assert mask.any()
        assert not (mask.astype(bool) & (within == 0)).any()


def test_no_room_is_a_clear_error() -> None:
    within = np.zeros((256, 256), np.uint8)
    within[10:13, 10:13] = 1
    with pytest.raises(OocytesegError, match="no room"):
        sample_inclusion_map(map_rng(0, 0), InclusionSamplerConfig(diameter_px=(5, 5)), within=within)
    with pytest.raises(OocytesegError, match="allowed-region mask is 10x10"):
        sample_inclusion_map(map_rng(0, 0), within=np.ones((10, 10)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), index=st.integers(0, 10**6))
def test_same_seed_same_map(seed: int, index: int) -> None:
    a, b = sample_inclusion_map(map_rng(seed, index)), sample_inclusion_map(map_rng(seed, index))
    assert (a.mask == b.mask).all() and a.objects == b.objects


def test_icsi_maps_respect_the_scene_rules() -> None:
    cfg = IcsiSamplerConfig(needle_sides=("left", "right"))
    seen = Counter()
    for i in range(40):
        lm = sample_icsi_map(map_rng(3, i), cfg)
        mask = lm.mask
        assert mask.shape == (480, 640) and set(np.unique(mask)) <= {0, 1, 2, 3}
        kinds = {o["class"]: o for o in lm.objects}
        seen.update(kinds.keys())
        oocyte = kinds["oocyte"]
        ellipse = ellipse_mask(mask.shape, (oocyte["cy"], oocyte["cx"]), (oocyte["a"], oocyte["b"]), oocyte["angle_deg"])
        assert ((mask == 1) <= ellipse).all()
        if "sERC" in kinds:
            assert (mask == 2).any()
            assert ((mask == 2) <= ellipse).all()  # sERC inside the oocyte
            assert not (ndimage.binary_dilation(mask == 2) & (mask == 0)).any()  # never touches background
        else:
            assert not (mask == 2).any()
        needle = mask == 3
        side = kinds["needle"]["side"]
        assert needle[:, -1 if side == "right" else 0].any()  # enters from its image side
        tip_y, tip_x = round(kinds["needle"]["tip_y"]), round(kinds["needle"]["tip_x"])
        assert needle[tip_y - 3:tip_y + 4, tip_x - 3:tip_x + 4].any()
        assert ndimage.label(needle)[1] == 1
    assert seen["sERC"] not in (0, 40)  # drawn with probability 0.7: both outcomes occur


def test_icsi_within_is_refused_and_unknown_kind_lists_valid() -> None:
    with pytest.raises(OocytesegError):
        sample_label_map("icsi", map_rng(0, 0), within=np.ones((480, 640)))
    with pytest.raises(KeyError, match="inclusions, icsi"):
        sample_label_map("cells", map_rng(0, 0))  # type: ignore[arg-type]


def test_reversed_range_and_unknown_key_are_errors() -> None:
    with pytest.raises(ValueError, match="low end"):
        InclusionSamplerConfig(spots=(5, 1))
    with pytest.raises(ValueError, match="Extra inputs"):
        IcsiSamplerConfig(needle_colour="red")
