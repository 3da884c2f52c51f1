"""Shared fixtures: a tiny phantom data set (3 cases x 2 stills at 96x128) and a tiny-model config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_phantom(tmp_path_factory) -> Path:
    """Manifest of 3 ICSI cases with 2 annotated stills each (96x128) and 4 inclusion close-ups (64x64)."""
    out = tmp_path_factory.mktemp("phantom")
    cfg = PhantomConfig(cases=3, seconds=1, fps=2, label_fps=2, height=96, width=128, video_formats=(),
                        inclusion_images=4, inclusion_size=64)
    return make_phantom_dataset(out, cfg, overwrite=True)


def tiny_config_dict(manifest: Path, **top) -> dict:
    """A config that trains unet_small_tiny for 2 steps at 48x64 (seconds on a CPU)."""
    raw = {
        "data": {"manifests": [str(manifest)], "labelset": "icsi", "size": [48, 64], "val_cases": ["case03"]},
        "model": {"name": "unet_small_tiny"},
        "optim": {"name": "adamw", "lr": 3e-3, "batch_size": 2, "max_steps": 2, "scheduler": "cosine"},
        "loss": {"name": "ce+dice"},
        "augment": "andreini",
        "trainer": {"accelerator": "cpu", "devices": 1, "val_every_n_steps": 1, "log_every_n_steps": 1,
                    "checkpoint_every_n_steps": 1},
    }
    raw.update(top)
    return raw


@pytest.fixture
def tiny_config_file(tiny_phantom, tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config_dict(tiny_phantom)))
    return path
