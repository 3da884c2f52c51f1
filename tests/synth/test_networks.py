"""Generator and discriminator shapes at the two data set sizes and at odd sizes."""

from __future__ import annotations

import pytest
import torch

from oocyteseg.synth import PatchDiscriminator, UNetGenerator, build_networks, one_hot
from oocyteseg.synth.config import GanConfig

torch.set_num_threads(1)


@pytest.mark.parametrize(("classes", "size"), [(2, (256, 256)), (4, (480, 640)), (4, (100, 130))])
def test_generator_output_shape_and_range(classes: int, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    gen = UNetGenerator(classes, base_width=4, depth=5, max_width=16)
    disc = PatchDiscriminator(classes + 3, base_width=4, n_layers=3, max_width=16)
    masks = torch.randint(0, classes, (1, *size))
    with torch.no_grad():
        cond = one_hot(masks, classes)
        out = gen(cond)
        scores = disc(cond, out)
    assert out.shape == (1, 3, *size)
    assert out.min() >= -1 and out.max() <= 1
    assert scores.shape[:2] == (1, 1) and scores.shape[2] > 1 and scores.shape[3] > 1


def test_one_hot_channels() -> None:
    x = one_hot(torch.tensor([[[0, 3], [1, 2]]]), 4)
    assert x.shape == (1, 4, 2, 2)
    assert (x.sum(1) == 1).all() and x[0, 3, 0, 1] == 1


@pytest.mark.parametrize("labelset", ["inclusions", "icsi"])
def test_default_networks_build_for_each_label_set(labelset: str) -> None:
    gen, disc = build_networks(GanConfig(labelset=labelset))
    n = GanConfig(labelset=labelset).label_set.num_classes
    assert gen.down[0][0].in_channels == n
    assert disc.net[0].in_channels == n + 3
