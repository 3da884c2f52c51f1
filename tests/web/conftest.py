"""Shared fixtures for the web app tests: a tiny untrained model and a short phantom video."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from oocyteseg.models import create_model, make_model_config, save_checkpoint
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained lraspp_mobilenet_v3_tiny checkpoint that runs at 64x96 (fast on a CPU)."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    model = create_model("lraspp_mobilenet_v3_tiny", num_classes=4)
    save_checkpoint(path, model, make_model_config("lraspp_mobilenet_v3_tiny", 4),
                    extra={"size": [64, 96], "labelset": "icsi"})
    return path


@pytest.fixture(scope="session")
def phantom_video(tmp_path_factory) -> Path:
    """A 1 s, 8 fps phantom ICSI video (480x640 MP4)."""
    out = tmp_path_factory.mktemp("phantom")
    make_phantom_dataset(out, PhantomConfig(cases=1, seconds=1, fps=8, inclusion_images=0, video_formats=("mp4",)),
                         overwrite=True)
    return out / "icsi" / "case01" / "case01.mp4"
