"""A one-bar progress display over the whole run (steps done / max_steps, losses, val mIoU, ETA)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback
from rich.progress import Progress

from oocyteseg.progress import progress_bar


class StepProgress(Callback):
    """Shows training steps against the run's total (so the ETA covers the run, not one epoch); rank 0 only.

    Args:
        description: text left of the bar.
        metrics: logged metric name -> label shown after the bar (latest value).
        optimizer_steps: optimizer steps per training step (a GAN steps G and D: 2); Lightning's
            global_step and max_steps count optimizer steps.
    """

    def __init__(self, description: str = "train", metrics: Mapping[str, str] | None = None,
                 optimizer_steps: int = 1):
        self.description = description
        self.metrics = dict(metrics or {"train/loss": "loss"})
        self.optimizer_steps = optimizer_steps
        self._bar: Progress | None = None
        self._task: Any = None
        self._val = ""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_rank != 0:
            return
        self._bar = progress_bar("info")
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=trainer.max_steps // self.optimizer_steps,
                                        completed=trainer.global_step // self.optimizer_steps, info="")

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self._bar is None:
            return
        values = ((label, trainer.callback_metrics.get(name)) for name, label in self.metrics.items())
        info = "  ".join(f"{label} {float(v):.4f}" for label, v in values if v is not None)
        self._bar.update(self._task, completed=trainer.global_step // self.optimizer_steps, info=f"{info}{self._val}")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        miou = trainer.callback_metrics.get("val/mIoU")
        if miou is not None and not trainer.sanity_checking:
            self._val = f"  val mIoU {float(miou):.3f}"

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._close()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._close()
