"""Fixtures: a tiny phantom (2 videos x 1.5 s at 8 fps, 96x128) and tiny untrained checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from oocyteseg.models import create_model, make_model_config, save_checkpoint
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

torch.set_num_threads(1)


def make_tiny_phantom(out: Path, cases: int = 2) -> Path:
    """Phantom videos (mp4) with exact masks; returns the data set folder."""
    cfg = PhantomConfig(cases=cases, seed=5, seconds=1.5, fps=8.0, label_fps=1.0, height=96, width=128,
                        video_formats=("mp4",), inclusion_images=0)
    make_phantom_dataset(out, cfg)
    return out


def make_checkpoint(path: Path, name: str = "lraspp_mobilenet_v3_tiny", size: tuple[int, int] = (48, 64)) -> Path:
    torch.manual_seed(0)
    model = create_model(name, num_classes=4)
    return save_checkpoint(path, model, make_model_config(name, 4), {"size": list(size), "labelset": "icsi"})


@pytest.fixture(scope="session")
def tiny_phantom(tmp_path_factory) -> Path:
    return make_tiny_phantom(tmp_path_factory.mktemp("tiny_phantom"))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.pt")
