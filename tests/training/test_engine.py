"""The training engine on a tiny phantom: outputs, portable model, resume, fine-tune, mixed data sets."""

from __future__ import annotations

import json
import math

import numpy as np

import pandas as pd
import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Callback

from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.models import load_checkpoint
from oocyteseg.training.config import config_from_dict, load_config
from oocyteseg.training.engine import train

from .conftest import tiny_config_dict

torch.set_num_threads(1)


class StopAfter(Callback):
    """Ask the trainer to stop after `steps` optimiser steps (an interruption, as far as the run knows)."""

    def __init__(self, steps: int):
        self.steps = steps

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step >= self.steps:
            trainer.should_stop = True


def test_train_writes_a_complete_run(tiny_phantom, tmp_path):
    cfg = config_from_dict(tiny_config_dict(tiny_phantom, augment="andreini+photometric+geometric",
                                            loss={"name": "ce+dice", "class_weights": "median_frequency"}))
    run = tmp_path / "run"
    result = train(cfg, run, progress=False)
    assert result.steps == 2 and not result.interrupted
    for name in ("config.yaml", "data.json", "checkpoints/last.ckpt", "checkpoints/best.ckpt", "logs/metrics.csv",
                 "learning_curve.csv", "learning_curve.png", "model.pt", "model-last.pt", "result.json"):
        assert (run / name).exists(), name
    assert result.best_val_miou is not None and 0.0 <= result.best_val_miou <= 1.0
    # resolved config saved in the run folder and inside the Lightning checkpoint and the portable model
    assert load_config(run / "config.yaml") == cfg
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert ckpt["hyper_parameters"]["config"] == cfg.to_dict()
    model, model_config, extra = load_checkpoint(result.model_path)
    assert model_config["name"] == "unet_small_tiny" and extra["config"] == cfg.to_dict()
    assert extra["size"] == [48, 64] and extra["classes"] == ["background", "oocyte", "sERC", "needle"]
    assert model(torch.zeros(1, 3, 48, 64)).shape == (1, 4, 48, 64)
    curve = pd.read_csv(result.metrics_csv)
    assert curve["step"].tolist() == [1, 2]
    assert curve[["train_loss", "val_loss", "val_miou", "train_miou", "val_iou_needle"]].notna().all().all()
    data = yaml.safe_load((run / "data.json").read_text())
    assert data["train_cases"] == ["case01", "case02"] and data["val_cases"] == ["case03"]


def test_existing_run_is_not_overwritten(tiny_phantom, tmp_path):
    cfg = config_from_dict(tiny_config_dict(tiny_phantom, optim={"max_steps": 1, "batch_size": 2}))
    train(cfg, tmp_path / "run", progress=False)
    with pytest.raises(OocytesegError, match="--resume"):
        train(cfg, tmp_path / "run", progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "model.pt").write_text("x")
    with pytest.raises(OutputExistsError):
        train(cfg, tmp_path / "other", progress=False)
    assert train(cfg, tmp_path / "run", overwrite=True, progress=False).steps == 1


def test_resume_continues_the_step_count(tiny_phantom, tmp_path):
    cfg = config_from_dict(tiny_config_dict(tiny_phantom, optim={"max_steps": 4, "batch_size": 2,
                                                                 "scheduler": "onecycle"}))
    run = tmp_path / "run"
    first = train(cfg, run, progress=False, callbacks=[StopAfter(2)])
    assert first.steps == 2
    before = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert before["global_step"] == 2
    second = train(cfg, run, resume=True, progress=False)
    assert second.steps == 4
    # its time is both parts': the ledger counts the first (interrupted) part too
    ledger = json.loads((run / "wall_time.json").read_text())
    assert ledger["runs"] == 2 and second.seconds >= first.seconds
    assert second.seconds == pytest.approx(ledger["seconds_total"], abs=0.2)
    assert json.loads((run / "result.json").read_text())["seconds"] == pytest.approx(second.seconds)
    curve = pd.read_csv(second.metrics_csv)
    assert curve["step"].tolist() == [1, 2, 3, 4]  # both parts of the log, once each
    # a resumed run must not silently change what it trains
    changed = cfg.model_copy(update={"seed": 5})
    with pytest.raises(OocytesegError, match="changed: seed"):
        train(changed, run, resume=True, progress=False)
    with pytest.raises(OocytesegError, match="nothing to resume"):
        train(cfg, tmp_path / "fresh", resume=True, progress=False)


def test_resume_continues_the_schedule(tiny_phantom, tmp_path):
    raw = tiny_config_dict(tiny_phantom, optim={"name": "adamw", "lr": 1e-3, "batch_size": 2, "max_steps": 6,
                                                "scheduler": "cosine", "warmup_steps": 2})
    raw["trainer"] = {**raw["trainer"], "val_every_n_steps": 100}
    cfg = config_from_dict(raw)
    whole = pd.read_csv(train(cfg, tmp_path / "whole", progress=False).metrics_csv)
    train(cfg, tmp_path / "parts", progress=False, callbacks=[StopAfter(3)])
    parts = pd.read_csv(train(cfg, tmp_path / "parts", resume=True, progress=False).metrics_csv)
    assert parts["step"].tolist() == whole["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert parts["lr"].tolist() == pytest.approx(whole["lr"].tolist(), rel=1e-6)
    assert whole["lr"].iloc[0] == pytest.approx(0.5e-3) and whole["lr"].iloc[1] == pytest.approx(1e-3)
    # a longer run (optim.max_steps may change on resume) follows the schedule of the new length from step 4
    longer = config_from_dict({**raw, "optim": {**raw["optim"], "max_steps": 10}})
    train(cfg, tmp_path / "longer", progress=False, callbacks=[StopAfter(3)])
    lr = pd.read_csv(train(longer, tmp_path / "longer", resume=True, progress=False).metrics_csv)["lr"].tolist()
    expected = [1e-3 * 0.5 * (1 + math.cos(math.pi * (s - 2) / 8)) for s in range(3, 10)]
    assert lr[3:] == pytest.approx(expected, rel=1e-6)


def test_fine_tune_from_checkpoint_and_mixed_manifests(tiny_phantom, tmp_path):
    # "synthetic" run on cases 1-2 of the phantom, then fine-tune on a second manifest listing (mixing) both
    pre = train(config_from_dict(tiny_config_dict(tiny_phantom, optim={"max_steps": 1, "batch_size": 2})),
                tmp_path / "pre", progress=False)
    other = tmp_path / "copy.csv"
    df = pd.read_csv(tiny_phantom)
    df["image"] = [str(tiny_phantom.parent / p) for p in df["image"]]
    df["mask"] = [str(tiny_phantom.parent / p) for p in df["mask"]]
    df["case"] = "copy-" + df["case"]
    df.to_csv(other, index=False)
    raw = tiny_config_dict(tiny_phantom, init_checkpoint=str(pre.model_path),
                           optim={"max_steps": 1, "batch_size": 2, "lr": 1e-6})
    raw["data"]["manifests"].append(str(other))
    cfg = config_from_dict(raw)
    run = tmp_path / "ft"
    result = train(cfg, run, progress=False)
    data = yaml.safe_load((run / "data.json").read_text())
    assert data["train_images"] == 10 and "copy-case01" in data["train_cases"]
    start, _, _ = load_checkpoint(pre.model_path)
    tuned, _, _ = load_checkpoint(result.model_path)
    # one step at lr 1e-6 from the init checkpoint stays next to it (it was loaded, not re-initialised);
    # parameters only: BatchNorm running statistics move with the batch whatever the learning rate
    diffs = [(a - b).abs().max().item() for a, b in zip(start.parameters(), tuned.parameters())]
    assert max(diffs) < 1e-5


def test_fine_tune_rejects_another_architecture(tiny_phantom, tmp_path):
    pre = train(config_from_dict(tiny_config_dict(tiny_phantom, optim={"max_steps": 1, "batch_size": 2})),
                tmp_path / "pre", progress=False)
    raw = tiny_config_dict(tiny_phantom, init_checkpoint=str(pre.model_path))
    raw["model"]["name"] = "lraspp_mobilenet_v3_tiny"
    with pytest.raises(OocytesegError, match="init checkpoint holds unet_small_tiny"):
        train(config_from_dict(raw), tmp_path / "ft", progress=False)


def test_unknown_cases_and_no_validation(tiny_phantom, tmp_path):
    raw = tiny_config_dict(tiny_phantom)
    raw["data"]["val_cases"] = ["case09"]
    with pytest.raises(OocytesegError, match="case09"):
        train(config_from_dict(raw), tmp_path / "bad", progress=False)
    raw["data"]["val_cases"] = None
    raw["optim"]["max_steps"] = 1
    result = train(config_from_dict(raw), tmp_path / "noval", progress=False)
    assert result.best_val_miou is None and result.model_path.is_file()


def test_class_weight_power_reaches_the_loss_weights(tiny_phantom, tmp_path):
    from oocyteseg.io.images import write_mask
    from oocyteseg.training.engine import resolve_class_weights

    a = np.zeros((10, 10), np.uint8)
    a[:2] = 1
    b = np.zeros((10, 10), np.uint8)
    b[0, :5] = 2
    rows = pd.DataFrame({"mask_path": [write_mask(tmp_path / "a.png", a), write_mask(tmp_path / "b.png", b)]})
    full = config_from_dict(tiny_config_dict(tiny_phantom, loss={"name": "ce", "class_weights": "median_frequency"}))
    sqrt = config_from_dict(tiny_config_dict(tiny_phantom, loss={"name": "ce", "class_weights": "median_frequency",
                                                                "class_weight_power": 0.5}))
    assert resolve_class_weights(full, rows) == pytest.approx([0.2 / 0.875, 1.0, 4.0, 0.0])
    assert resolve_class_weights(sqrt, rows) == pytest.approx([(0.2 / 0.875) ** 0.5, 1.0, 2.0, 0.0])
    with pytest.raises(OocytesegError, match="class_weight_power"):
        config_from_dict(tiny_config_dict(tiny_phantom, loss={"name": "ce", "class_weight_power": 1.5}))
