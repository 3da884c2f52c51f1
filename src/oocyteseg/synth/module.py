"""The pix2pix GAN as a LightningModule: manual optimisation of D then G on each batch."""

from __future__ import annotations

import math
import time
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F

from oocyteseg.errors import OocytesegError
from oocyteseg.synth.checkpoint import FORMAT, build_networks
from oocyteseg.synth.config import GanConfig
from oocyteseg.synth.networks import one_hot

# Lightning's global_step counts optimizer steps: one GAN step is a D step and a G step.
OPTIMIZER_STEPS = 2


def adversarial_loss(logits: torch.Tensor, real: bool, mode: str) -> torch.Tensor:
    """LSGAN (MSE to 1/0) or BCE-with-logits against an all-real / all-fake target."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    if mode == "lsgan":
        return F.mse_loss(logits, target)
    return F.binary_cross_entropy_with_logits(logits, target)


class GanModule(L.LightningModule):
    """Generator (one-hot label map -> RGB) and discriminator (label map + RGB), built from `config`."""

    def __init__(self, config: GanConfig):
        super().__init__()
        self.automatic_optimization = False
        self.config = config
        self.generator, self.discriminator = build_networks(config)

    @property
    def gan_step(self) -> int:
        """GAN updates done so far (each a D and a G optimizer step)."""
        return self.global_step // OPTIMIZER_STEPS

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        t = self.config.train
        return [torch.optim.Adam(self.generator.parameters(), lr=t.lr_g, betas=tuple(t.betas)),
                torch.optim.Adam(self.discriminator.parameters(), lr=t.lr_d, betas=tuple(t.betas))]

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> dict[str, float]:
        """One pix2pix update of D then G on (label maps, real images); logs and returns the losses."""
        start = time.perf_counter()
        masks, images = batch
        cond = one_hot(masks, self.config.label_set.num_classes)
        opt_g, opt_d = self.optimizers()
        mode = self.config.loss.gan_mode
        fake = self.generator(cond)

        # discriminator: real pairs -> 1, generated pairs -> 0
        self.discriminator.requires_grad_(True)
        loss_d = 0.5 * (adversarial_loss(self.discriminator(cond, images), True, mode)
                        + adversarial_loss(self.discriminator(cond, fake.detach()), False, mode))
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(loss_d)
        opt_d.step()

        # generator: fool the discriminator and stay close (L1) to the real image
        self.discriminator.requires_grad_(False)
        loss_g_adv = adversarial_loss(self.discriminator(cond, fake), True, mode)
        loss_l1 = F.l1_loss(fake, images)
        loss_g = loss_g_adv + self.config.loss.l1_lambda * loss_l1
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(loss_g)
        opt_g.step()

        losses = {"loss_d": loss_d.item(), "loss_g_adv": loss_g_adv.item(), "loss_l1": loss_l1.item(),
                  "loss_g": loss_g.item(), "seconds": time.perf_counter() - start}
        if not all(math.isfinite(v) for v in losses.values()):
            raise OocytesegError(f"GAN losses became non-finite at step {self.gan_step} ({losses})",
                                 self.trainer.default_root_dir,
                                 "lower train.lr_g / train.lr_d, or resume from the last checkpoint")
        self.log_dict(losses, on_step=True, on_epoch=False, batch_size=len(masks))
        return losses

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Lightning's checkpoint plus what `load_checkpoint` checks and reads: format, GAN step, config."""
        checkpoint.update(format=FORMAT, step=self.gan_step, config=self.config.model_dump(mode="json"))
