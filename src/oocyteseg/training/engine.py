"""`train(config, out_dir)`: one training run with Lightning, ending in a portable `model.pt`.

Run folder layout:
    config.yaml            resolved config (also inside every checkpoint)
    data.json              the train / val cases and image counts actually used
    checkpoints/last.ckpt  Lightning state for --resume (model, optimiser, scheduler, step)
    checkpoints/best.ckpt  best validation mean IoU (when there is validation data)
    logs/metrics.csv       Lightning's CSV log
    learning_curve.csv/png train and val loss and mIoU per step
    model.pt               portable best model (oocyteseg.models.load_checkpoint); model-last.pt: last step
    result.json            summary (steps, best val mIoU, seconds: wall time of all parts of a resumed run)
    wall_time.json         that wall time, rewritten every 15 s while training (an interrupted part counts)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import torch
import yaml
from lightning.pytorch.callbacks import Callback, EarlyStopping, EMAWeightAveraging, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities import rank_zero_only

from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.io.atomic import write_json, write_text
from oocyteseg.io.images import read_mask
from oocyteseg.io.wall_clock import LEDGER_NAME, RunClock
from oocyteseg.models import save_checkpoint
from oocyteseg.training.config import TrainConfig, dump_config
from oocyteseg.training.curves import keep_previous_log, write_curves
from oocyteseg.training.data import build_loaders, frame_sizes, input_spec
from oocyteseg.training.losses import median_frequency_weights
from oocyteseg.training.module import SegmentationModule
from oocyteseg.training.precise_bn import PreciseBatchNorm, recalibrate_from_loader
from oocyteseg.training.progress import StepProgress

# Settings that may change when a run is resumed (everything else must match the saved config).
RESUMABLE_CHANGES = ("optim.max_steps", "trainer.", "num_workers", "data.cache")
RUN_FILES = ("config.yaml", "data.json", "checkpoints", "logs", "learning_curve.csv", "learning_curve.png",
             "model.pt", "model-last.pt", "result.json", LEDGER_NAME)


# Lightning notices that say nothing about this run (we use few workers on purpose, etc.).
QUIET_WARNINGS = (".*exists and is not empty.*", ".*does not have many workers.*", ".*number of training batches.*",
                  ".*Checkpoint directory.*", ".*LeafSpec.*",
                  ".*weights_only.*", ".*limit_val_batches.*", ".*litlogger.*",
                  ".*dataloader is not resumable.*", ".*when logging on epoch level in distributed.*",
                  ".*but have no `val_dataloader`.*")


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Hide Lightning's start-up banner (GPU/TPU available, tips); warnings and errors still show."""
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric", "lightning")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


@dataclass
class TrainResult:
    """Where a run's outputs are, and its headline numbers."""

    run_dir: Path
    model_path: Path  # portable best model (or last, without validation data)
    last_model_path: Path
    metrics_csv: Path  # learning_curve.csv
    curve_png: Path
    best_val_miou: float | None
    steps: int
    seconds: float  # wall-clock, all parts of a resumed run (an interrupted part included)
    interrupted: bool = False
    cpu_seconds: float = 0.0  # CPU time of this (rank-0) process: comparable across loaded machines
    rank: int = 0  # global rank of the process that returned this (DDP: outputs are written by rank 0)


def _flatten(d: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "kwargs":
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def check_resumable(saved: dict, config: TrainConfig, path: Path) -> None:
    """Raise if `config` differs from the saved one in anything but RESUMABLE_CHANGES."""
    old, new = _flatten(saved), _flatten(config.to_dict())
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)
                     and not any(k == p or (p.endswith(".") and k.startswith(p)) for p in RESUMABLE_CHANGES))
    if changed:
        raise OocytesegError(f"cannot resume with a different config (changed: {', '.join(changed)})", path,
                             "resume with the run's own config.yaml, or start a new run in another --out")


def _prepare_run_dir(config: TrainConfig, out_dir: Path, overwrite: bool, resume: bool) -> Path | None:
    """Checks and clean-up before training (rank 0 only); returns the checkpoint to resume from."""
    last = out_dir / "checkpoints" / "last.ckpt"
    if resume:
        if not last.is_file():
            raise OocytesegError("nothing to resume: no checkpoints/last.ckpt", out_dir,
                                 "run without --resume to start this run")
        saved = out_dir / "config.yaml"
        if saved.is_file():
            check_resumable(yaml.safe_load(saved.read_text()), config, saved)
        keep_previous_log(out_dir / "logs")
        return last
    existing = [out_dir / f for f in RUN_FILES if (out_dir / f).exists()]
    if existing and not overwrite:
        raise OutputExistsError(out_dir) if not last.is_file() else OocytesegError(
            "run folder already holds a run", out_dir, "pass --resume to continue it, --overwrite to restart, "
            "or choose another --out")
    if rank_zero_only.rank == 0:
        for path in existing:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    return None


def resolve_class_weights(config: TrainConfig, train_rows) -> list[float] | None:
    """Explicit weights, median-frequency weights from the training masks (raised to `class_weight_power`), or None."""
    cw = config.loss.class_weights
    n = config.data.label_set().num_classes
    if cw is None:
        return None
    if cw == "median_frequency":
        return median_frequency_weights((read_mask(p) for p in train_rows["mask_path"]), n,
                                        power=config.loss.class_weight_power)
    if len(cw) != n:
        raise OocytesegError(f"loss.class_weights has {len(cw)} values but label set {config.data.label_set().name!r} has "
                             f"{n} classes", fix=f"give {n} weights or 'median_frequency'")
    return [float(w) for w in cw]


def _make_trainer(config: TrainConfig, out_dir: Path, progress: bool, has_val: bool,
                  callbacks: list[Callback] | None) -> L.Trainer:
    t = config.trainer
    ckpt_dir = out_dir / "checkpoints"
    cbs: list[Callback] = [ModelCheckpoint(dirpath=ckpt_dir, save_top_k=0, save_last=True,
                                           every_n_train_steps=t.checkpoint_every_n_steps)]
    if has_val:
        cbs.append(ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor="val/mIoU", mode="max", save_top_k=1,
                                   enable_version_counter=False))
    if has_val and t.early_stopping_patience:
        cbs.append(EarlyStopping(monitor="val/mIoU", mode="max", patience=t.early_stopping_patience))
    if config.optim.ema_decay > 0:  # before precise BN: validation swaps the average in, then recalibrates it
        cbs.append(EMAWeightAveraging(decay=config.optim.ema_decay,
                                      update_starting_at_step=config.optim.ema_start_step or None))
    if has_val and t.precise_bn_batches:
        cbs.append(PreciseBatchNorm(t.precise_bn_batches, config.seed))
    if progress:
        cbs.append(StepProgress(f"train {out_dir.name}"))
    cbs += callbacks or []
    return L.Trainer(
        accelerator=t.accelerator, devices=t.devices, strategy=t.strategy, num_nodes=t.num_nodes,
        precision=t.precision, max_steps=config.optim.max_steps, max_epochs=-1,
        gradient_clip_val=config.optim.grad_clip, gradient_clip_algorithm="norm",
        val_check_interval=min(t.val_every_n_steps, config.optim.max_steps) if has_val else None,
        check_val_every_n_epoch=None if has_val else 1, limit_val_batches=1.0 if has_val else 0,
        num_sanity_val_steps=0, log_every_n_steps=t.log_every_n_steps, deterministic=t.deterministic,
        logger=CSVLogger(out_dir, name="logs", version="", flush_logs_every_n_steps=t.log_every_n_steps),
        callbacks=cbs, default_root_dir=out_dir,
        enable_progress_bar=False, enable_model_summary=False,
    )


def _export(ckpt: Path, module: SegmentationModule, out: Path, extra: dict, train_dl, bn_batches: int,
            seed: int) -> Path:
    """The checkpoint's weights as a portable model, with precise BatchNorm statistics (see precise_bn.py)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"]
    model = module.model.cpu().to(memory_format=torch.contiguous_format)  # the usual layout (trainer.channels_last)
    model.load_state_dict({k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")})
    used = recalibrate_from_loader(model, train_dl, bn_batches, seed)
    if used:
        extra = {**extra, "precise_bn_batches": used}
    return save_checkpoint(out, model, module.model_config, extra, overwrite=True)


def encoder_weights_record(config: TrainConfig) -> dict | None:
    """Which ImageNet file the encoder started from (name, size, SHA-256), or None for random init."""
    import hashlib

    from oocyteseg.training.module import backbone_weights_path

    path = backbone_weights_path(config)
    if path is None:
        return None
    p = Path(path)
    return {"file": p.name, "bytes": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}


def train(config: TrainConfig, out_dir: str | os.PathLike, overwrite: bool = False, resume: bool = False,
          progress: bool = True, callbacks: list[Callback] | None = None) -> TrainResult:
    """Train one model as configured; outputs go to out_dir (see the module docstring).

    Args:
        config: the validated TrainConfig (`load_config`).
        out_dir: run folder.
        overwrite: replace an existing run in out_dir.
        resume: continue from out_dir/checkpoints/last.ckpt (step count, optimiser and scheduler continue).
        progress: show a progress bar (rank 0).
        callbacks: extra Lightning callbacks (tests use one to stop a run half way).
    """
    cpu_start = time.process_time()
    out_dir = Path(out_dir)
    if config.trainer.cpu_threads:
        torch.set_num_threads(config.trainer.cpu_threads)
    rank0 = rank_zero_only.rank == 0
    ckpt_path = _prepare_run_dir(config, out_dir, overwrite, resume) if rank0 else (
        out_dir / "checkpoints" / "last.ckpt" if resume else None)
    # the wall time of every part of a resumed run, an interrupted part included (rank 0 keeps it)
    clock = RunClock(out_dir, resume=resume) if rank0 else None
    with clock if clock is not None else contextlib.nullcontext():
        return _fit_and_export(config, out_dir, progress, callbacks, ckpt_path, rank0, clock, cpu_start)


def _fit_and_export(config: TrainConfig, out_dir: Path, progress: bool, callbacks: list[Callback] | None,
                    ckpt_path: Path | None, rank0: bool, clock: RunClock | None, cpu_start: float) -> TrainResult:
    """`train`'s fitting, export of the portable models, curves and result.json (after the run folder checks)."""
    start = time.time()
    L.seed_everything(config.seed, workers=True, verbose=False)
    train_dl, val_dl, train_rows, val_rows = build_loaders(config)
    module = SegmentationModule(config.to_dict(), resolve_class_weights(config, train_rows))
    if rank0:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_text(out_dir / "config.yaml", dump_config(config))
        write_json(out_dir / "data.json", {
            "train_cases": sorted(set(train_rows["case"])), "val_cases": sorted(set(val_rows["case"])),
            "train_images": len(train_rows), "val_images": len(val_rows)})
    with warnings.catch_warnings(), _quiet_lightning():
        for pattern in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        trainer = _make_trainer(config, out_dir, progress, val_dl is not None, callbacks)
        trainer.fit(module, train_dl, val_dl, ckpt_path=str(ckpt_path) if ckpt_path else None)
        last = out_dir / "checkpoints" / "last.ckpt"
        trainer.save_checkpoint(last, weights_only=False)  # the final state, whatever the checkpoint interval
    best_cb = next((c for c in trainer.checkpoint_callbacks if c.monitor == "val/mIoU"), None)
    best_path = Path(best_cb.best_model_path) if best_cb and best_cb.best_model_path else None
    best_score = float(best_cb.best_model_score) if best_path and best_cb.best_model_score is not None else None
    result = TrainResult(out_dir, out_dir / "model.pt", out_dir / "model-last.pt", out_dir / "learning_curve.csv",
                         out_dir / "learning_curve.png", best_score, int(trainer.global_step),
                         time.time() - start, bool(trainer.interrupted), time.process_time() - cpu_start,
                         trainer.global_rank)
    if trainer.global_rank != 0:
        return result
    labels = config.data.label_set()
    extra = {"config": config.to_dict(), "labelset": labels.name, "classes": list(labels.classes),
             "label_set": labels.to_dict(),
             **input_spec(config).as_extra(), "encoder_weights": encoder_weights_record(config),
             "train_sizes": frame_sizes(train_rows)}
    bn = config.trainer.precise_bn_batches
    _export(last, module, result.last_model_path, {**extra, "step": result.steps, "selected": "last"}, train_dl, bn,
            config.seed)
    _export(best_path or last, module, result.model_path,
            {**extra, "step": result.steps, "selected": "best val mIoU" if best_path else "last",
             "best_val_miou": best_score}, train_dl, bn, config.seed)
    write_curves(out_dir / "logs", out_dir, title=f"{config.model.name} ({out_dir.name})")
    result.seconds = clock.total if clock is not None else time.time() - start  # all parts of a resumed run
    result.cpu_seconds = time.process_time() - cpu_start  # this part only
    write_json(out_dir / "result.json", {k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()})
    return result
