"""Loading ImageNet backbone weights from a local state-dict file (never from a hub)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from oocyteseg.errors import OocytesegError

logger = logging.getLogger("oocyteseg.models")

# ImageNet classifier heads: present in torchvision's files, never part of a segmentation backbone.
IMAGENET_HEADS = ("fc.", "classifier.")


@dataclass(frozen=True)
class LoadReport:
    """What `load_backbone_weights` did: tensors loaded and keys it skipped on purpose."""

    path: Path
    loaded: int
    skipped: tuple[str, ...]


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict (or a dict holding one under "state_dict"/"model") from a local file."""
    path = Path(path)
    fix = "give a local ImageNet state dict (.pth), e.g. torchvision's resnet50-0676ba61.pth"
    if not path.is_file():
        raise OocytesegError("backbone weights file does not exist", path, fix=fix)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors all mean the same to the user
        raise OocytesegError(f"cannot read backbone weights ({type(exc).__name__})", path, fix=fix) from exc
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()
    ):
        raise OocytesegError("file is not a state dict of named tensors", path, fix=fix)
    return obj


def _examples(keys: list[str], n: int = 4) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


def load_backbone_weights(
    target: nn.Module,
    path: str | os.PathLike,
    *,
    model_name: str,
    backbone: str,
    rename: Callable[[str], str] = lambda k: k,
    skip_prefixes: Iterable[str] = IMAGENET_HEADS,
) -> LoadReport:
    """Copy a torchvision ImageNet state dict into `target` (the model's encoder), strictly.

    Keys are mapped with `rename`; keys starting with one of `skip_prefixes` (classifier heads,
    stages a tiny variant does not have) are skipped on purpose. Any other key of the file that the
    encoder lacks, any encoder key the file lacks, or any shape mismatch raises OocytesegError
    naming the keys, so a wrong file never half-loads silently.
    """
    path = Path(path)
    state = read_state_dict(path)
    skip = tuple(skip_prefixes)
    mapped: dict[str, torch.Tensor] = {}
    skipped: list[str] = []
    for key, value in state.items():
        if key.startswith(skip):
            skipped.append(key)
        else:
            mapped[rename(key)] = value
    own = target.state_dict()
    # Old torchvision files predate BatchNorm's num_batches_tracked buffer; its value is unused.
    missing = [k for k in own if k not in mapped and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in mapped if k not in own]
    mismatched = [
        f"{k} {tuple(mapped[k].shape)} vs {tuple(own[k].shape)}"
        for k in mapped
        if k in own and mapped[k].shape != own[k].shape
    ]
    if missing or unexpected or mismatched:
        problems = []
        if missing:
            problems.append(f"{len(missing)} encoder keys missing from the file: {_examples(missing)}")
        if unexpected:
            problems.append(f"{len(unexpected)} file keys unknown to the encoder: {_examples(unexpected)}")
        if mismatched:
            problems.append(f"{len(mismatched)} shape mismatches (file vs model): {_examples(mismatched, 2)}")
        raise OocytesegError(
            f"backbone weights do not match model {model_name!r}: " + "; ".join(problems),
            path,
            fix=f"give torchvision's ImageNet {backbone} state dict (tiny variants only accept it where shapes match)",
        )
    target.load_state_dict(mapped, strict=False)
    logger.info("%s: loaded %d backbone tensors from %s (skipped %d head keys)", model_name, len(mapped), path, len(skipped))
    return LoadReport(path, len(mapped), tuple(skipped))


def prepare_resnet_encoder(
    encoder: nn.Module,
    *,
    depth: int,
    backbone_weights: str | os.PathLike | None,
    model_name: str,
    backbone: str,
    in_channels: int,
) -> None:
    """Make an smp ResNet encoder ready: drop stages past `depth`, load ImageNet weights, adapt the input.

    Stages past `depth` are never run, so their parameters are removed (and skipped when loading).
    """
    unused = ("layer3.", "layer4.")[depth - 3 :] if depth < 5 else ()
    for stage in unused:
        delattr(encoder, stage.rstrip("."))
    if backbone_weights is not None:
        load_backbone_weights(encoder, backbone_weights, model_name=model_name, backbone=backbone,
                              skip_prefixes=IMAGENET_HEADS + unused)
    if in_channels != 3:
        encoder.set_in_channels(in_channels, pretrained=backbone_weights is not None)
