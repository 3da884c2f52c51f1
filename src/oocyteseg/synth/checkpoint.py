"""GAN checkpoints: networks, optimiser states, step and resolved config in one atomically written file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path
from oocyteseg.synth.config import GanConfig, parse_gan_config
from oocyteseg.synth.networks import PatchDiscriminator, UNetGenerator

LAST_CHECKPOINT = Path("checkpoints") / "last.pt"
FORMAT = "oocyteseg-gan-1"


def build_networks(config: GanConfig) -> tuple[UNetGenerator, PatchDiscriminator]:
    """Generator (one-hot label map -> RGB) and discriminator (label map + RGB) for a config."""
    n = config.label_set.num_classes
    return (UNetGenerator.from_config(n, config.generator),
            PatchDiscriminator.from_config(n + 3, config.discriminator))


def save_checkpoint(path: str | os.PathLike, *, generator: nn.Module, discriminator: nn.Module,
                    opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, step: int, config: GanConfig) -> Path:
    """Write everything needed to resume (or to generate) at `step`, atomically."""
    state = {"format": FORMAT, "step": step, "config": config.model_dump(mode="json"),
             "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
             "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict()}
    with atomic_path(path, overwrite=True) as tmp:
        torch.save(state, tmp)
    return Path(path)


def resolve_checkpoint(gan: str | os.PathLike) -> Path:
    """A run folder -> its checkpoints/last.pt; a file -> itself; clear error if neither exists."""
    gan = Path(gan)
    path = gan / LAST_CHECKPOINT if gan.is_dir() else gan
    if not path.is_file():
        raise OocytesegError("GAN checkpoint not found", path,
                             "pass a run folder made by `oocyteseg synth train-gan` or its checkpoints/last.pt")
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by save_checkpoint (on CPU); its config is validated again."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise OocytesegError(f"cannot read GAN checkpoint ({exc.__class__.__name__})", path,
                             "pass a checkpoint written by `oocyteseg synth train-gan`") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise OocytesegError("not an oocyteseg GAN checkpoint", path,
                             "pass a checkpoint written by `oocyteseg synth train-gan`")
    state["config"] = parse_gan_config(state["config"], path)
    return state


def load_generator(gan: str | os.PathLike) -> tuple[UNetGenerator, GanConfig, Path]:
    """The trained generator (eval mode), its config and the checkpoint path, from a run folder or file."""
    path = resolve_checkpoint(gan)
    state = load_checkpoint(path)
    generator, _ = build_networks(state["config"])
    generator.load_state_dict(state["generator"])
    return generator.eval(), state["config"], path
