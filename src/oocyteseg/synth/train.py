"""Training of the mask->image GAN (pix2pix) with Lightning: checkpoints, resume, logs and progress.

Run folder layout: config.yaml (resolved), pairs.csv (the training pairs used), losses.csv (one row
per step), logs/metrics.csv (Lightning's CSV log), checkpoints/last.pt (Lightning's checkpoint, see
synth/checkpoint.py), samples/step_NNNNNN.png (label map | generated | real).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch import nn
from torch.utils.data import DataLoader

from oocyteseg.classes import LabelSet
from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.io.atomic import write_table
from oocyteseg.synth.checkpoint import LAST_CHECKPOINT, load_checkpoint
from oocyteseg.synth.config import GanConfig, save_config
from oocyteseg.synth.grids import colorize, save_grid, to_uint8
from oocyteseg.synth.module import OPTIMIZER_STEPS, GanModule
from oocyteseg.synth.networks import one_hot
from oocyteseg.synth.pairs import PairDataset, find_pairs
from oocyteseg.training.curves import keep_previous_log, metrics_files
from oocyteseg.training.engine import QUIET_WARNINGS, _quiet_lightning
from oocyteseg.training.progress import StepProgress

LOSS_COLUMNS = ["step", "loss_d", "loss_g_adv", "loss_l1", "loss_g", "seconds"]


@dataclass(frozen=True)
class GanRun:
    """Where a training run left its outputs and how far it got."""

    out_dir: Path
    checkpoint: Path
    step: int
    losses: Path


def write_sample_grid(path: Path, generator: nn.Module, batch: list[tuple[torch.Tensor, torch.Tensor]],
                      label_set: LabelSet) -> None:
    """Rows of label map | generated | real for a few (mask, image) pairs, as one PNG."""
    masks = torch.stack([m for m, _ in batch])
    real = torch.stack([x for _, x in batch])
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        fake = generator(one_hot(masks, label_set.num_classes).to(next(generator.parameters()).device))
    generator.train(was_training)
    save_grid(path, [[colorize(m.numpy(), label_set), f, r]
                     for m, f, r in zip(masks, to_uint8(fake.cpu()), to_uint8(real), strict=True)])


class SampleGrids(Callback):
    """Writes samples/step_NNNNNN.png every `train.sample_every` GAN steps and at the last one."""

    def __init__(self, out_dir: Path, preview: list[tuple[torch.Tensor, torch.Tensor]]):
        self.out_dir, self.preview = out_dir, preview

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: GanModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        step, t = pl_module.gan_step, pl_module.config.train
        if step % t.sample_every == 0 or step == t.steps:
            write_sample_grid(self.out_dir / "samples" / f"step_{step:06d}.png", pl_module.generator, self.preview,
                              pl_module.config.label_set)


def write_losses(out_dir: Path, last_step: int) -> Path:
    """losses.csv (one row per GAN step up to `last_step`) from Lightning's CSV log(s) of the run."""
    files = metrics_files(out_dir / "logs")
    log = pd.concat([pd.read_csv(p) for p in files], ignore_index=True) if files else pd.DataFrame(columns=["step"])
    log = log.assign(step=log["step"].astype(int) + 1)  # Lightning logs the 0-based batch count
    rows = log.groupby("step", as_index=False).last()  # a step logged again after a resume: the latest
    return write_table(rows.loc[rows["step"] <= last_step, LOSS_COLUMNS], out_dir / "losses.csv")


def resolve_run_config(out_dir: str | os.PathLike, config: GanConfig | None, resume: bool,
                       steps: int | None = None) -> tuple[GanConfig, int]:
    """The config of a run and the step it starts at: the given config (or defaults) and 0 for a new run,
    the saved config and step when resuming. When resuming, a given config must equal the saved one
    except for train.steps.
    """
    if not resume:
        return (config or GanConfig()).with_overrides(steps=steps), 0
    path = Path(out_dir) / LAST_CHECKPOINT
    if not path.is_file():
        raise OocytesegError("no checkpoint to resume from", path, "run without --resume to start a new run")
    state = load_checkpoint(path)
    saved: GanConfig = state["config"]
    if config is not None and config.with_overrides(steps=1) != saved.with_overrides(steps=1):
        raise OocytesegError("the given config differs from the run's saved config", Path(out_dir) / "config.yaml",
                             "resume without --config (the saved one is used), or start a new --out")
    return saved.with_overrides(steps=steps), state["step"]


@contextlib.contextmanager
def _ctrl_c_stays_keyboard_interrupt() -> Iterator[None]:
    """Lightning turns Ctrl-C into exit(1) and then ignores SIGINT: give the caller a KeyboardInterrupt (the
    run resumes from its last checkpoint) and the previous SIGINT handler back."""
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    try:
        yield
    except SystemExit as exc:
        raise KeyboardInterrupt from exc
    finally:
        if main:
            signal.signal(signal.SIGINT, handler)


def _trainer(cfg: GanConfig, out_dir: Path, progress: bool, preview: list) -> L.Trainer:
    last = ModelCheckpoint(dirpath=out_dir / LAST_CHECKPOINT.parent, save_top_k=0, save_last=True,
                           every_n_train_steps=OPTIMIZER_STEPS * cfg.train.checkpoint_every,
                           enable_version_counter=False)
    last.FILE_EXTENSION = LAST_CHECKPOINT.suffix  # checkpoints/last.pt, the name generate and the pipelines read
    callbacks: list[Callback] = [last, SampleGrids(out_dir, preview)]
    if progress:
        callbacks.append(StepProgress("train GAN", {"loss_d": "D", "loss_g_adv": "G", "loss_l1": "L1"},
                                      OPTIMIZER_STEPS))
    return L.Trainer(accelerator=cfg.train.accelerator, devices=1, max_steps=OPTIMIZER_STEPS * cfg.train.steps,
                     max_epochs=-1, limit_val_batches=0, num_sanity_val_steps=0, log_every_n_steps=1,
                     logger=CSVLogger(out_dir, name="logs", version="",
                                      flush_logs_every_n_steps=cfg.train.checkpoint_every),
                     callbacks=callbacks, default_root_dir=out_dir, enable_progress_bar=False,
                     enable_model_summary=False)


def train_gan(data: str | os.PathLike, out_dir: str | os.PathLike, config: GanConfig | None = None, *,
              steps: int | None = None, cases: set[str] | None = None, exclude_cases: set[str] | None = None,
              resume: bool = False, overwrite: bool = False, progress: bool = True,
              threads: int | None = None) -> GanRun:
    """Train (or resume) the GAN on the training pairs of `data` until `train.steps` updates.

    Args:
        data: manifest.csv, a folder with one, or a folder with images/ + masks/ (see find_pairs).
        out_dir: run folder.
        config: GAN settings (defaults if None; ignored in favour of the saved one when resuming).
        steps: overrides config.train.steps (the total, counted from step 0).
        cases / exclude_cases: restrict training to these cases / never use these (test) cases.
        resume: continue from out_dir/checkpoints/last.pt.
        overwrite: replace an existing run folder (without resume).
        threads: torch CPU threads for this process (None keeps torch's default).
    """
    out_dir = Path(out_dir)
    cfg, step = resolve_run_config(out_dir, config, resume, steps)
    replace = not resume and out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir()))
    if replace and not overwrite:
        raise OutputExistsError(out_dir)
    pairs = find_pairs(data, cfg.labelset, cases, exclude_cases)  # before deleting anything
    if replace:
        shutil.rmtree(out_dir) if out_dir.is_dir() else out_dir.unlink()
    if threads is not None:
        torch.set_num_threads(threads)
    L.seed_everything(cfg.train.seed, verbose=False)  # reproducible initial weights
    module = GanModule(cfg)
    save_config(cfg, out_dir / "config.yaml")
    write_table(pd.DataFrame([{"image": str(p.image), "mask": str(p.mask), "case": p.case} for p in pairs]),
                out_dir / "pairs.csv")
    if resume:
        keep_previous_log(out_dir / "logs")

    n_classes = cfg.label_set.num_classes
    torch.manual_seed(cfg.train.seed + step)  # a resumed run draws a fresh but reproducible data order
    dataset = PairDataset(pairs, cfg.image_size, n_classes, flip=cfg.train.flip)
    loader = DataLoader(dataset, batch_size=min(cfg.train.batch_size, len(dataset)), shuffle=True, drop_last=True)
    preview = PairDataset(pairs[:4], cfg.image_size, n_classes)
    with warnings.catch_warnings(), _quiet_lightning():
        for pattern in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        trainer = _trainer(cfg, out_dir, progress, [preview[i] for i in range(len(preview))])
        with _ctrl_c_stays_keyboard_interrupt():
            trainer.fit(module, loader, ckpt_path=out_dir / LAST_CHECKPOINT if resume else None)
        trainer.save_checkpoint(out_dir / LAST_CHECKPOINT)  # the final state, whatever the checkpoint interval
    step = load_checkpoint(out_dir / LAST_CHECKPOINT)["step"]
    return GanRun(out_dir, out_dir / LAST_CHECKPOINT, step, write_losses(out_dir, step))
