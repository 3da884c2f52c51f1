"""Training loop of the mask->image GAN (pix2pix): a plain torch loop with checkpoints and resume.

Run folder layout: config.yaml (resolved), pairs.csv (the training pairs used), losses.csv (one row
per step), checkpoints/last.pt, samples/step_NNNNNN.png (label map | generated | real).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from oocyteseg.classes import LabelSet
from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.io.atomic import write_table
from oocyteseg.synth.checkpoint import LAST_CHECKPOINT, build_networks, load_checkpoint, save_checkpoint
from oocyteseg.synth.config import GanConfig, save_config
from oocyteseg.synth.grids import colorize, save_grid, to_uint8
from oocyteseg.synth.networks import one_hot
from oocyteseg.synth.outputs import progress_bar
from oocyteseg.synth.pairs import PairDataset, find_pairs

LOSS_COLUMNS = ["step", "loss_d", "loss_g_adv", "loss_l1", "loss_g", "seconds"]


@dataclass(frozen=True)
class GanRun:
    """Where a training run left its outputs and how far it got."""

    out_dir: Path
    checkpoint: Path
    step: int
    losses: Path


def adversarial_loss(logits: torch.Tensor, real: bool, mode: str) -> torch.Tensor:
    """LSGAN (MSE to 1/0) or BCE-with-logits against an all-real / all-fake target."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    if mode == "lsgan":
        return F.mse_loss(logits, target)
    return F.binary_cross_entropy_with_logits(logits, target)


def gan_step(generator: nn.Module, discriminator: nn.Module, opt_g: torch.optim.Optimizer,
             opt_d: torch.optim.Optimizer, cond: torch.Tensor, images: torch.Tensor, cfg: GanConfig) -> dict[str, float]:
    """One pix2pix update of D then G on a batch (one-hot label maps `cond`, real images); returns the losses."""
    mode = cfg.loss.gan_mode
    fake = generator(cond)

    # discriminator: real pairs -> 1, generated pairs -> 0
    discriminator.requires_grad_(True)
    loss_d = 0.5 * (adversarial_loss(discriminator(cond, images), True, mode)
                    + adversarial_loss(discriminator(cond, fake.detach()), False, mode))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    # generator: fool the discriminator and stay close (L1) to the real image
    discriminator.requires_grad_(False)
    loss_g_adv = adversarial_loss(discriminator(cond, fake), True, mode)
    loss_l1 = F.l1_loss(fake, images)
    loss_g = loss_g_adv + cfg.loss.l1_lambda * loss_l1
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g_adv": loss_g_adv.item(), "loss_l1": loss_l1.item(),
            "loss_g": loss_g.item()}


def write_sample_grid(path: Path, generator: nn.Module, batch: list[tuple[torch.Tensor, torch.Tensor]],
                      label_set: LabelSet) -> None:
    """Rows of label map | generated | real for a few (mask, image) pairs, as one PNG."""
    masks = torch.stack([m for m, _ in batch])
    real = torch.stack([x for _, x in batch])
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        fake = generator(one_hot(masks, label_set.num_classes))
    generator.train(was_training)
    save_grid(path, [[colorize(m.numpy(), label_set), f, r]
                     for m, f, r in zip(masks, to_uint8(fake), to_uint8(real), strict=True)])


def resolve_run_config(out_dir: str | os.PathLike, config: GanConfig | None, resume: bool,
                       steps: int | None = None) -> GanConfig:
    """The config of a run: the given one (or defaults) for a new run, the saved one when resuming.

    When resuming, a given config must equal the saved one except for train.steps.
    """
    if not resume:
        return (config or GanConfig()).with_overrides(steps=steps)
    path = Path(out_dir) / LAST_CHECKPOINT
    if not path.is_file():
        raise OocytesegError("no checkpoint to resume from", path, "run without --resume to start a new run")
    saved: GanConfig = load_checkpoint(path)["config"]
    if config is not None and config.with_overrides(steps=1) != saved.with_overrides(steps=1):
        raise OocytesegError("the given config differs from the run's saved config", Path(out_dir) / "config.yaml",
                             "resume without --config (the saved one is used), or start a new --out")
    return saved.with_overrides(steps=steps)


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
    cfg = resolve_run_config(out_dir, config, resume, steps)
    replace = not resume and out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir()))
    if replace and not overwrite:
        raise OutputExistsError(out_dir)
    pairs = find_pairs(data, cfg.labelset, cases, exclude_cases)  # before deleting anything
    if replace:
        shutil.rmtree(out_dir) if out_dir.is_dir() else out_dir.unlink()
    n_classes = cfg.label_set.num_classes
    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(cfg.train.seed)  # reproducible initial weights
    generator, discriminator = build_networks(cfg)
    betas = tuple(cfg.train.betas)
    opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.train.lr_g, betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.train.lr_d, betas=betas)
    step, rows = 0, []
    if resume:
        state = load_checkpoint(out_dir / LAST_CHECKPOINT)
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step = int(state["step"])
        if (out_dir / "losses.csv").is_file():
            old = pd.read_csv(out_dir / "losses.csv")
            rows = old[old["step"] <= step].to_dict("records")
    save_config(cfg, out_dir / "config.yaml")
    write_table(pd.DataFrame([{"image": str(p.image), "mask": str(p.mask), "case": p.case} for p in pairs]),
                out_dir / "pairs.csv")

    torch.manual_seed(cfg.train.seed + step)  # a resumed run draws a fresh but reproducible data order
    dataset = PairDataset(pairs, cfg.image_size, n_classes, flip=cfg.train.flip)
    loader = DataLoader(dataset, batch_size=min(cfg.train.batch_size, len(dataset)), shuffle=True, drop_last=True)
    preview = PairDataset(pairs[:4], cfg.image_size, n_classes)
    preview_batch = [preview[i] for i in range(len(preview))]

    def checkpoint() -> None:
        save_checkpoint(out_dir / LAST_CHECKPOINT, generator=generator, discriminator=discriminator,
                        opt_g=opt_g, opt_d=opt_d, step=step, config=cfg)
        write_table(pd.DataFrame(rows, columns=LOSS_COLUMNS), out_dir / "losses.csv")

    generator.train()
    discriminator.train()
    total = cfg.train.steps
    with progress_bar(progress, "losses") as bar:
        task = bar.add_task("train GAN", total=total, completed=step, losses="")
        while step < total:
            for masks, images in loader:
                start = time.perf_counter()
                losses = gan_step(generator, discriminator, opt_g, opt_d, one_hot(masks, n_classes), images, cfg)
                step += 1
                row = {"step": step, **losses, "seconds": time.perf_counter() - start}
                if not all(math.isfinite(v) for v in row.values()):
                    raise OocytesegError(f"GAN losses became non-finite at step {step} ({row})", out_dir,
                                         "lower train.lr_g / train.lr_d, or resume from the last checkpoint")
                rows.append(row)
                bar.update(task, advance=1, losses=f"D {row['loss_d']:.3f}  G {row['loss_g_adv']:.3f}  "
                                                   f"L1 {row['loss_l1']:.3f}")
                if step % cfg.train.sample_every == 0 or step == total:
                    write_sample_grid(out_dir / "samples" / f"step_{step:06d}.png", generator, preview_batch,
                                      cfg.label_set)
                if step % cfg.train.checkpoint_every == 0 or step == total:
                    checkpoint()
                if step >= total:
                    break
    if not (out_dir / LAST_CHECKPOINT).is_file():  # resumed at or past the target: still leave a checkpoint
        checkpoint()
    return GanRun(out_dir, out_dir / LAST_CHECKPOINT, step, out_dir / "losses.csv")
