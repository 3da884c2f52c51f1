"""Fixtures: one analysed tiny phantom run (2 videos, exact masks next to them) shared by the report tests."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from oocyteseg.cli.main import main
from tests.inference.conftest import make_checkpoint, make_tiny_phantom

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def analysed_run(tmp_path_factory):
    """(run folder, phantom folder): `oocyteseg analyze` output plus a learning_curve.csv of a 'training run'."""
    root = tmp_path_factory.mktemp("report_run")
    phantom = make_tiny_phantom(root / "phantom")
    ckpt = make_checkpoint(root / "model.pt", "unet_small_tiny", size=(48, 64))
    run = root / "run"
    assert main(["analyze", str(phantom / "icsi"), "--model", str(ckpt), "--out", str(run), "--threads", "1"]) == 0
    train = run / "train"
    train.mkdir()
    pd.DataFrame({"step": [10, 20, 30], "train_loss": [1.2, 0.8, 0.5], "val_loss": [1.3, 0.9, 0.7],
                  "train_miou": [0.2, 0.4, 0.6], "val_miou": [0.1, 0.3, 0.5]}).to_csv(train / "learning_curve.csv",
                                                                                    index=False)
    return run, phantom
