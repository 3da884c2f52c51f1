"""Shared fixtures for the web app tests: tiny models and a short phantom video with masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from oocyteseg.data.preprocess import InputSpec
from oocyteseg.io.images import read_image, read_mask
from oocyteseg.models import create_model, make_model_config, save_checkpoint
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

MODEL = "lraspp_mobilenet_v3_tiny"
SIZE = (64, 96)


@pytest.fixture(scope="session")
def phantom_dir(tmp_path_factory) -> Path:
    """A 1 s, 8 fps phantom case: icsi/case01/case01.mp4 (480x640) and a mask for every frame."""
    out = tmp_path_factory.mktemp("phantom")
    make_phantom_dataset(out, PhantomConfig(cases=1, seconds=1, fps=8, label_fps=8, inclusion_images=0,
                                            video_formats=("mp4",)), overwrite=True)
    return out


@pytest.fixture(scope="session")
def phantom_video(phantom_dir) -> Path:
    return phantom_dir / "icsi" / "case01" / "case01.mp4"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An untrained lraspp_mobilenet_v3_tiny checkpoint that runs at 64x96 (fast on a CPU)."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    save_checkpoint(path, create_model(MODEL, num_classes=4), make_model_config(MODEL, 4),
                    extra={"size": list(SIZE), "labelset": "icsi"})
    return path


@pytest.fixture(scope="session")
def fitted_model(tmp_path_factory, phantom_dir) -> Path:
    """The tiny model fitted for 60 steps to the phantom frames (a few seconds), so curves have values."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    manifest = pd.read_csv(phantom_dir / "manifest.csv")
    manifest = manifest[manifest.labelset == "icsi"]  # not the oocyte-anatomy rows of the same stills
    spec = InputSpec(SIZE, resize_policy="stretch")  # the checkpoint records no policy: it predicts stretched
    pairs = [(spec.resize(read_image(phantom_dir / r.image)), spec.resize_mask(read_mask(phantom_dir / r.mask)))
             for r in manifest.itertuples()]
    x = torch.stack([spec.tensor(im) for im, _ in pairs])
    y = torch.stack([torch.from_numpy(np.asarray(m)).long() for _, m in pairs])
    model = create_model(MODEL, num_classes=4)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    weight = torch.tensor([0.5, 1.0, 4.0, 4.0])  # sERC and needle are small
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x), y, weight=weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for m in model.modules():  # batch-norm statistics of the final weights, so eval mode matches training
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None
    with torch.no_grad():
        model(x)
    path = tmp_path_factory.mktemp("model") / "fitted.pt"
    save_checkpoint(path, model.eval(), make_model_config(MODEL, 4), extra={"size": list(SIZE), "labelset": "icsi"})
    return path
