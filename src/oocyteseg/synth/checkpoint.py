"""GAN checkpoints: Lightning's checkpoint of a GanModule (networks, optimiser and loop states) plus the
GAN step and the resolved config, read back here for resuming checks and for generating."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from oocyteseg.errors import OocytesegError
from oocyteseg.synth.config import GanConfig, parse_gan_config
from oocyteseg.synth.networks import PatchDiscriminator, UNetGenerator

LAST_CHECKPOINT = Path("checkpoints") / "last.pt"
FORMAT = "oocyteseg-gan-2"  # 1: the hand-written loop's own file, before Lightning


def build_networks(config: GanConfig) -> tuple[UNetGenerator, PatchDiscriminator]:
    """Generator (one-hot label map -> RGB) and discriminator (label map + RGB) for a config."""
    n = config.label_set.num_classes
    return (UNetGenerator.from_config(n, config.generator),
            PatchDiscriminator.from_config(n + 3, config.discriminator))


def resolve_checkpoint(gan: str | os.PathLike) -> Path:
    """A run folder -> its checkpoints/last.pt; a file -> itself; clear error if neither exists."""
    gan = Path(gan)
    path = gan / LAST_CHECKPOINT if gan.is_dir() else gan
    if not path.is_file():
        raise OocytesegError("GAN checkpoint not found", path,
                             "pass a run folder made by `oocyteseg synth train-gan` or its checkpoints/last.pt")
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A GAN checkpoint (on CPU) as step, config (validated again), generator / discriminator state dicts
    and opt_g / opt_d optimiser states."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise OocytesegError(f"cannot read GAN checkpoint ({exc.__class__.__name__})", path,
                             "pass a checkpoint written by `oocyteseg synth train-gan`") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise OocytesegError("not an oocyteseg GAN checkpoint of this version", path,
                             "pass a checkpoint written by this version's `oocyteseg synth train-gan`")
    weights = state["state_dict"]
    opt_g, opt_d = state["optimizer_states"]
    return {"step": int(state["step"]), "config": parse_gan_config(state["config"], path), "opt_g": opt_g,
            "opt_d": opt_d, **{net: {k.removeprefix(f"{net}."): v for k, v in weights.items() if k.startswith(f"{net}.")}
                               for net in ("generator", "discriminator")}}


def load_generator(gan: str | os.PathLike) -> tuple[UNetGenerator, GanConfig, Path]:
    """The trained generator (eval mode), its config and the checkpoint path, from a run folder or file."""
    path = resolve_checkpoint(gan)
    state = load_checkpoint(path)
    generator, _ = build_networks(state["config"])
    generator.load_state_dict(state["generator"])
    return generator.eval(), state["config"], path
