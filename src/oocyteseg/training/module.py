"""The LightningModule: our model, loss and metrics; Lightning owns loops, devices and checkpoints."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
from torch import nn

from oocyteseg.errors import OocytesegError
from oocyteseg.training.metrics import confusion_matrix, iou_from_confusion, nanmean, pixel_accuracy
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


def _schedule(cfg: TrainConfig, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    o = cfg.optim
    if o.scheduler == "onecycle":
        pct = o.warmup_steps / o.max_steps if o.warmup_steps else 0.3
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=o.lr, total_steps=o.max_steps + 1,
                                                   pct_start=min(max(pct, 1e-3), 0.9))

    def factor(step: int) -> float:
        if step < o.warmup_steps:
            return (step + 1) / o.warmup_steps
        t = min(1.0, (step - o.warmup_steps) / max(1, o.max_steps - o.warmup_steps))
        if o.scheduler == "cosine":
            return 0.5 * (1 + math.cos(math.pi * t))
        if o.scheduler == "poly":
            return (1 - t) ** 0.9
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class SegmentationModule(L.LightningModule):
    """Trains `model` on (image, mask) batches; logs loss, mIoU (foreground classes) and accuracy.

    Args:
        config: the resolved TrainConfig as a dict (stored in every Lightning checkpoint).
        class_weights: per-class loss weights resolved by the engine (explicit or median-frequency).
    """

    def __init__(self, config: dict[str, Any], class_weights: list[float] | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False  # the step below is written out: forward, loss, backward, step
        self.cfg = TrainConfig.model_validate(config)
        self.model, self.model_config = build_model(self.cfg)
        lc = self.cfg.loss
        self.criterion = create_loss(lc.name, class_weights=class_weights, term_weights=lc.term_weights,
                                     focal_gamma=lc.focal_gamma, dice_smooth=lc.dice_smooth)
        self.num_classes = self.model_config["num_classes"]
        self.class_names = list(self.cfg.data.label_set().classes)
        self.register_buffer("train_cm", torch.zeros(self.num_classes, self.num_classes, dtype=torch.long),
                             persistent=False)
        self.register_buffer("val_cm", torch.zeros_like(self.train_cm), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        opt, sched = self.optimizers(), self.lr_schedulers()
        logits = self.model(batch["image"])
        loss = self.criterion(logits, batch["mask"])
        lr = opt.param_groups[0]["lr"]
        opt.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        if self.cfg.optim.grad_clip:
            self.clip_gradients(opt, gradient_clip_val=self.cfg.optim.grad_clip, gradient_clip_algorithm="norm")
        opt.step()
        sched.step()
        self._log_train(loss.detach(), logits.detach(), batch["mask"], lr)
        return loss

    def _log_train(self, loss: torch.Tensor, logits: torch.Tensor, target: torch.Tensor, lr: float) -> None:
        # mIoU of the training batches since the last logged step (a running window, no extra forward pass)
        self.train_cm += confusion_matrix(logits.argmax(1), target, self.num_classes)
        n = len(target)
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        self.log("train/mIoU", nanmean(iou_from_confusion(self.train_cm)[1:]), batch_size=n)
        self.log("lr", lr, batch_size=n)
        self.log("step", float(self.global_step), batch_size=n)  # x-axis = optimiser steps done (survives resume)
        if self.global_step % self.trainer.log_every_n_steps == 0:
            self.train_cm.zero_()

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        logits = self.model(batch["image"])
        loss = self.criterion(logits, batch["mask"])
        self.val_cm += confusion_matrix(logits.argmax(1), batch["mask"], self.num_classes)
        self.log("val/loss", loss, batch_size=len(batch["mask"]), sync_dist=True, on_epoch=True)

    def on_validation_epoch_end(self) -> None:
        cm = self.trainer.strategy.reduce(self.val_cm.clone(), reduce_op="sum")
        iou = iou_from_confusion(cm)
        self.log("val/mIoU", nanmean(iou[1:]), prog_bar=True)
        for name, value in zip(self.class_names[1:], iou[1:]):
            self.log(f"val/IoU_{name}", float(value))
        self.log("val/accuracy", pixel_accuracy(cm))
        self.log("step", float(self.global_step))
        self.val_cm.zero_()

    def configure_optimizers(self) -> dict:
        o = self.cfg.optim
        params = self.model.parameters()
        if o.name == "adam":
            opt = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
        elif o.name == "adamw":
            opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
        else:
            opt = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": _schedule(self.cfg, opt), "interval": "step"}}
