"""A one-bar rich progress display over the whole run (steps done / max_steps, loss, val mIoU, ETA)."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Callback
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class StepProgress(Callback):
    """Shows global steps against max_steps (so the ETA covers the run, not one epoch); rank 0 only."""

    def __init__(self, description: str = "train"):
        self.description = description
        self._bar: Progress | None = None
        self._task: Any = None
        self._val = ""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.global_rank != 0:
            return
        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("eta"),
                             TimeRemainingColumn())
        self._bar.start()
        self._task = self._bar.add_task(self.description, total=trainer.max_steps, completed=trainer.global_step,
                                        info="")

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        if self._bar is None:
            return
        loss = trainer.callback_metrics.get("train/loss")
        info = f"loss {float(loss):.4f}" if loss is not None else ""
        self._bar.update(self._task, completed=trainer.global_step, info=f"{info}{self._val}")

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
