"""The LightningModule: our model, loss and metrics; Lightning owns loops, devices and checkpoints."""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.optim import lr_scheduler
from torchmetrics.classification import MulticlassAccuracy, MulticlassJaccardIndex

from oocyteseg.data.preprocess import argmax_classes_torch
from oocyteseg.errors import OocytesegError
from oocyteseg.models import create_model, get_model_entry, load_checkpoint, make_model_config
from oocyteseg.training.config import TrainConfig
from oocyteseg.training.losses import create_loss


def backbone_weights_path(cfg: TrainConfig) -> str | None:
    """The encoder weights to start from: `model.backbone_weights`, else the packaged ones (unless
    `model.pretrained` is false), else None (random initialisation)."""
    if cfg.model.backbone_weights:
        return str(cfg.model.backbone_weights)
    entry = get_model_entry(cfg.model.name)
    if cfg.model.pretrained and entry.packaged_weights is not None and cfg.init_checkpoint is None:
        return entry.packaged_weights()
    return None


def build_model(cfg: TrainConfig) -> tuple[nn.Module, dict[str, Any]]:
    """The configured network (with backbone weights or an init checkpoint) and its portable config."""
    num_classes = cfg.data.label_set().num_classes
    kwargs = dict(cfg.model.kwargs)
    backbone = backbone_weights_path(cfg)
    model = create_model(cfg.model.name, num_classes, 3, backbone_weights=backbone, **kwargs)
    model_config = make_model_config(cfg.model.name, num_classes, 3, **kwargs)
    if cfg.init_checkpoint is not None:
        init, init_config, _ = load_checkpoint(cfg.init_checkpoint)
        if (init_config["name"], init_config["num_classes"]) != (cfg.model.name, num_classes):
            raise OocytesegError(
                f"init checkpoint holds {init_config['name']} with {init_config['num_classes']} classes, the config "
                f"asks for {cfg.model.name} with {num_classes}", cfg.init_checkpoint,
                "fine-tune the same architecture and label set, or drop init_checkpoint")
        model.load_state_dict(init.state_dict())
    return model, model_config


def _schedule(cfg: TrainConfig, optimizer: torch.optim.Optimizer) -> lr_scheduler.LRScheduler | None:
    """The learning-rate schedule, stepped once per optimiser step: linear warm-up over `warmup_steps`
    (factor (step + 1) / warmup_steps), then constant ("none"), cosine or poly (power 0.9) decay to 0 at
    `max_steps`; or one-cycle (its own warm-up). None for a constant rate without warm-up."""
    o = cfg.optim
    if o.scheduler == "onecycle":
        pct = o.warmup_steps / o.max_steps if o.warmup_steps else 0.3
        return lr_scheduler.OneCycleLR(optimizer, max_lr=o.lr, total_steps=o.max_steps + 1,
                                       pct_start=min(max(pct, 1e-3), 0.9))
    warm = o.warmup_steps
    # factor 1/warm at step 0 rising to 1 at step warm - 1 (warm = 1: one step at factor 1 before the decay)
    warmup = lr_scheduler.LinearLR(optimizer, start_factor=1 / warm, total_iters=max(1, warm - 1)) if warm else None
    decay_steps = max(1, o.max_steps - warm)
    if o.scheduler == "cosine":
        decay = lr_scheduler.CosineAnnealingLR(optimizer, T_max=decay_steps)
    elif o.scheduler == "poly":
        decay = lr_scheduler.PolynomialLR(optimizer, total_iters=decay_steps, power=0.9)
    else:
        return warmup
    return decay if warmup is None else lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[warm])


class SegmentationModule(L.LightningModule):
    """Trains `model` on (image, mask) batches; logs loss, mIoU (foreground classes) and accuracy.

    Args:
        config: the resolved TrainConfig as a dict (stored in every Lightning checkpoint).
        class_weights: per-class loss weights resolved by the engine (explicit or median-frequency).
    """

    def __init__(self, config: dict[str, Any], class_weights: list[float] | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.cfg = TrainConfig.model_validate(config)
        self.model, self.model_config = build_model(self.cfg)
        # channels-last (NHWC) weights and batches: the same arithmetic, faster convolutions on a CPU
        self.memory_format = torch.channels_last if self.cfg.trainer.channels_last else torch.contiguous_format
        self.model.to(memory_format=self.memory_format)
        lc = self.cfg.loss
        self.criterion = create_loss(lc.name, class_weights=class_weights, term_weights=lc.term_weights,
                                     focal_gamma=lc.focal_gamma, dice_smooth=lc.dice_smooth)
        self.num_classes = self.model_config["num_classes"]
        self.class_names = list(self.cfg.data.label_set().classes)
        # Per-class IoU with oocyteseg's convention: NaN for a class in neither truth nor prediction
        # (oocyteseg.evaluation.metrics). The training one is a per-process window since the last log.
        iou = dict(num_classes=self.num_classes, average="none", zero_division=float("nan"), validate_args=False)
        self.train_iou = MulticlassJaccardIndex(**iou, sync_on_compute=False)
        self.val_iou = MulticlassJaccardIndex(**iou)
        self.val_accuracy = MulticlassAccuracy(self.num_classes, average="micro", validate_args=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.contiguous(memory_format=self.memory_format))

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        logits = self(batch["image"])
        loss = self.criterion(logits, batch["mask"])
        self.train_iou.update(argmax_classes_torch(logits.detach()), batch["mask"])  # labels: torchmetrics'
        # own arg-max over the logits' class axis costs 20x more on a CPU (a tenth of a training step)
        n = len(batch["mask"])
        self.log("train/loss", loss.detach(), prog_bar=True, batch_size=n)
        self.log("train/mIoU", self.train_iou.compute()[1:].nanmean(), batch_size=n)  # the window incl. this batch
        self.log("lr", self.optimizers().param_groups[0]["lr"], batch_size=n)  # the rate this step uses
        return loss

    def on_train_batch_end(self, outputs: Any, batch: dict, batch_idx: int) -> None:
        # after the optimiser step: x-axis = optimiser steps done (survives resume)
        self.log("step", float(self.global_step), batch_size=len(batch["mask"]))
        if self.global_step % self.trainer.log_every_n_steps == 0:
            self.train_iou.reset()

    def on_train_start(self) -> None:
        """On resume, rebuild the schedule for this config at the saved step: `optim.max_steps` may change
        on resume, and the learning rate stays a function of (config, step), as in an unbroken run."""
        step = self.trainer.global_step
        cfg = self.trainer.lr_scheduler_configs[0] if self.trainer.lr_scheduler_configs else None
        if step == 0 or cfg is None:
            return
        cfg.scheduler = _schedule(self.cfg, cfg.scheduler.optimizer)
        with warnings.catch_warnings():  # stepping without optimiser steps is the point here
            warnings.filterwarnings("ignore", message=".*lr_scheduler.step.*before.*optimizer.step")
            for _ in range(step):
                cfg.scheduler.step()

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        logits = self(batch["image"])
        loss = self.criterion(logits, batch["mask"])
        labels = argmax_classes_torch(logits)
        self.val_iou.update(labels, batch["mask"])
        self.val_accuracy.update(labels, batch["mask"])
        self.log("val/loss", loss, batch_size=len(batch["mask"]), sync_dist=True, on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        iou = self.val_iou.compute()  # summed over the processes (DDP) by torchmetrics
        self.log("val/mIoU", iou[1:].nanmean(), prog_bar=True)
        for name, value in zip(self.class_names[1:], iou[1:].tolist()):
            self.log(f"val/IoU_{name}", value)
        self.log("val/accuracy", self.val_accuracy.compute())
        self.log("step", float(self.global_step))
        self.val_iou.reset()
        self.val_accuracy.reset()

    def configure_optimizers(self) -> dict:
        """The optimiser and its per-step schedule; Lightning steps both (clipping: `Trainer(gradient_clip_val)`)."""
        o = self.cfg.optim
        params = self.model.parameters()
        if o.name == "adam":
            opt = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
        elif o.name == "adamw":
            opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
        else:
            opt = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
        sched = _schedule(self.cfg, opt)
        return {"optimizer": opt} if sched is None else {
            "optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
