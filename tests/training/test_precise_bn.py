"""Precise BatchNorm: statistics recomputed from batches, nothing else changed; wired into training and export."""

from __future__ import annotations

import lightning as L
import torch
from torch import nn

from oocyteseg.models import load_checkpoint
from oocyteseg.training.config import config_from_dict
from oocyteseg.training.engine import train
from oocyteseg.training.precise_bn import batchnorm_layers, recalibrate_batchnorm

from .conftest import tiny_config_dict

torch.set_num_threads(1)


def test_statistics_become_the_average_over_the_batches() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5, momentum=0.01), nn.ReLU())
    bn = model[1]
    bn.running_mean.fill_(100.0)  # stale statistics, as after a short training with a low momentum
    bn.running_var.fill_(1e-3)
    batches = [torch.randn(4, 3, 8, 8) * 3 + 1, torch.randn(4, 3, 8, 8) * 3 + 1]
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    model.eval()
    assert recalibrate_batchnorm(model, iter(batches), max_batches=5) == 2
    with torch.no_grad():
        feats = [model[0](b) for b in batches]
    expected_mean = torch.stack([f.mean((0, 2, 3)) for f in feats]).mean(0)
    expected_var = torch.stack([f.var((0, 2, 3), unbiased=True) for f in feats]).mean(0)
    assert torch.allclose(bn.running_mean, expected_mean, atol=1e-5)
    assert torch.allclose(bn.running_var, expected_var, rtol=1e-4)
    # weights, momentum and mode untouched
    assert bn.momentum == 0.01 and not model.training and not bn.training
    for k, v in weights.items():
        assert torch.equal(model.state_dict()[k], v), k
    # eval-mode output now matches the batch-statistics output closely on the same data
    with torch.no_grad():
        eval_out = model(batches[0])
        model.train()
        train_out = model(batches[0])
    assert (eval_out - train_out).abs().mean() < 0.1 * train_out.abs().mean()


def test_limits_and_models_without_batchnorm() -> None:
    model = nn.Sequential(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2))
    before = model[1].running_mean.clone()
    assert recalibrate_batchnorm(model, iter([]), max_batches=4) == 0  # nothing to average: untouched
    assert recalibrate_batchnorm(model, iter([torch.randn(1, 3, 4, 4)]), max_batches=4) == 0  # batch of 1 skipped
    assert torch.equal(model[1].running_mean, before)
    assert recalibrate_batchnorm(model, iter([torch.randn(2, 3, 4, 4)] * 9), max_batches=3) == 3
    assert recalibrate_batchnorm(nn.Conv2d(3, 2, 1), iter([torch.randn(2, 3, 4, 4)]), max_batches=3) == 0
    assert batchnorm_layers(nn.Sequential(nn.BatchNorm2d(2, track_running_stats=False))) == []


def test_training_exports_recalibrated_statistics_and_is_unchanged_otherwise(tiny_phantom, tmp_path) -> None:
    raw = tiny_config_dict(tiny_phantom, seed=3)
    runs = {}
    for batches in (0, 4):
        cfg = config_from_dict({**raw, "trainer": {**raw["trainer"], "precise_bn_batches": batches}})
        runs[batches] = train(cfg, tmp_path / f"bn{batches}", progress=False)
    off, on = (load_checkpoint(runs[b].last_model_path) for b in (0, 4))
    assert "precise_bn_batches" not in off[2] and on[2]["precise_bn_batches"] >= 1
    state_off, state_on = off[0].state_dict(), on[0].state_dict()
    stats = [k for k in state_on if k.endswith("running_mean")]
    assert stats and any(not torch.equal(state_off[k], state_on[k]) for k in stats)
    # Recalibration draws extra batches but restores the random state: the trained weights are identical.
    for k in state_on:
        if "running" not in k and "num_batches" not in k:
            assert torch.equal(state_off[k], state_on[k]), k


class _RecordWeights(L.Callback):
    """The raw (non-averaged) parameters after every optimiser step."""

    def __init__(self) -> None:
        self.steps: list[dict[str, torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.steps.append({k.removeprefix("model."): v.detach().clone() for k, v in pl_module.named_parameters()})


def test_ema_exports_the_moving_average_of_the_weights(tiny_phantom, tmp_path) -> None:
    raw = tiny_config_dict(tiny_phantom, seed=5)
    decay, start = 0.6, 1
    cfg = config_from_dict({**raw, "optim": {**raw["optim"], "max_steps": 4, "ema_decay": decay,
                                             "ema_start_step": start},
                            "trainer": {**raw["trainer"], "precise_bn_batches": 0}})
    record = _RecordWeights()
    result = train(cfg, tmp_path / "ema", progress=False, callbacks=[record])
    assert len(record.steps) == 4
    averages = [dict(record.steps[start])]  # the first averaged step is copied, later ones mixed in with `decay`
    for weights in record.steps[start + 1:]:
        averages.append({k: decay * averages[-1][k] + (1 - decay) * w for k, w in weights.items()})

    def matches(exported: dict[str, torch.Tensor], average: dict[str, torch.Tensor]) -> bool:
        return set(exported) == set(average) and all(torch.allclose(exported[k], v, atol=1e-6)
                                                     for k, v in average.items())

    last = dict(load_checkpoint(result.last_model_path)[0].named_parameters())
    assert matches(last, averages[-1])
    assert not matches(last, record.steps[-1])  # not the raw weights
    best = dict(load_checkpoint(result.model_path)[0].named_parameters())
    assert any(matches(best, a) for a in averages)  # the average validated best (validation every step)
