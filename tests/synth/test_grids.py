"""Nearest real image search and sample grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from synth_fakes import fake_pair

from oocyteseg.classes import INCLUSIONS
from oocyteseg.io.images import read_image
from oocyteseg.synth import colorize, grid_image, nearest_real, write_nearest_grid


def test_nearest_real_finds_the_copy() -> None:
    reals = [fake_pair(i)[1] for i in range(5)]
    noisy = np.clip(reals[3].astype(int) + 4, 0, 255).astype(np.uint8)
    index, dist = nearest_real(noisy, reals)
    assert index == 3 and dist < 0.03
    assert nearest_real(reals[1], reals) == (1, 0.0)


def test_grid_layout_and_nearest_grid(tmp_path: Path) -> None:
    a, b = np.zeros((4, 6, 3), np.uint8), np.full((5, 3), 9, np.uint8)
    grid = grid_image([[a, b], [b]], gap=2)
    assert grid.shape == (5 + 2 + 5, 6 + 2 + 6, 3)
    assert (grid[7:12, 0:3] == 9).all()
    masks, images = zip(*(fake_pair(i) for i in range(3)), strict=True)
    distances = write_nearest_grid(tmp_path / "g.png", masks, images, images, INCLUSIONS)
    assert distances == [0.0, 0.0, 0.0]
    assert read_image(tmp_path / "g.png").shape == (3 * 32 + 4, 3 * 32 + 4, 3)
    assert (colorize(masks[0], INCLUSIONS)[masks[0] == 1] == INCLUSIONS.colors[1]).all()
