"""Shared fixtures: one small phantom data set rendered once per test session."""

from __future__ import annotations

import pytest
import torch

from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_phantom(tmp_path_factory):
    """4 ICSI cases x 2 s at 12 fps (2 stills per case) + 6 inclusion close-ups; returns the manifest path."""
    out = tmp_path_factory.mktemp("phantom")
    cfg = PhantomConfig(cases=4, seed=3, seconds=2.0, fps=12.0, label_fps=1.0, inclusion_images=6,
                        video_formats=("mp4", "wmv"))
    return make_phantom_dataset(out, cfg)
