"""Model registry: one builder per architecture, registered by name into a plain dict.

`create_model(name, num_classes, in_channels=3, **kw)` and `list_models()` are the public entry
points (the timm / smp pattern). Every registered model maps an image batch (N, C, H, W) to logits
(N, num_classes, H, W) at the input size, for any H and W.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from oocyteseg.errors import OocytesegError

logger = logging.getLogger("oocyteseg.models")

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one model name.

    Attributes:
        name: registered name.
        builder: keyword-only function `(num_classes, in_channels, backbone_weights, ...) -> nn.Module`.
        description: one line for `oocyteseg models`.
        tiny: True for the few-channel variants used by tests.
        backbone: the torchvision ImageNet state dict `backbone_weights` expects (e.g. "resnet50"),
            or None when the model has no pretrained backbone.
        mean / std: per-channel input statistics the backbone was trained with (ImageNet's by default).
        packaged_weights: a function returning the path of ImageNet weights shipped by an installed
            package (read from disk, never downloaded), used when no `backbone_weights` is given.
    """

    name: str
    builder: Builder
    description: str
    tiny: bool
    backbone: str | None
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    packaged_weights: Callable[[], str] | None = None


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str, *, description: str, tiny: bool = False, backbone: str | None = None,
    mean: tuple[float, float, float] | None = None, std: tuple[float, float, float] | None = None,
    packaged_weights: Callable[[], str] | None = None,
) -> Callable[[Builder], Builder]:
    """Decorator registering a builder under `name`."""

    def decorate(builder: Builder) -> Builder:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered twice")
        norm = {k: v for k, v in (("mean", mean), ("std", std)) if v is not None}
        _REGISTRY[name] = ModelEntry(name, builder, description, tiny, backbone, packaged_weights=packaged_weights,
                                     **norm)
        return builder

    return decorate


def list_models(*, include_tiny: bool = True) -> list[str]:
    """Sorted registered model names (tiny test variants included unless include_tiny=False)."""
    return sorted(n for n, e in _REGISTRY.items() if include_tiny or not e.tiny)


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry for `name`; KeyError listing the valid names if unknown."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; valid names: {', '.join(list_models())}") from None


def builder_options(name: str) -> list[str]:
    """Extra keyword arguments a model accepts besides num_classes, in_channels, backbone_weights."""
    params = inspect.signature(get_model_entry(name).builder).parameters
    return [p for p in params if p not in ("num_classes", "in_channels", "backbone_weights")]


def build_model(name: str, num_classes: int, in_channels: int = 3, **kw: Any) -> nn.Module:
    """Build a model without logging (used when rebuilding from a checkpoint)."""
    entry = get_model_entry(name)
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise OocytesegError(f"num_classes must be a positive integer, got {num_classes!r}", fix="pass e.g. num_classes=4")
    if not isinstance(in_channels, int) or isinstance(in_channels, bool) or in_channels < 1:
        raise OocytesegError(f"in_channels must be a positive integer, got {in_channels!r}", fix="pass e.g. in_channels=3")
    accepted = set(inspect.signature(entry.builder).parameters)
    unknown = sorted(set(kw) - accepted)
    if unknown:
        valid = ", ".join(sorted(accepted - {"num_classes", "in_channels"}))
        raise OocytesegError(
            f"model {name!r} has no option {', '.join(map(repr, unknown))}", fix=f"use only: {valid}"
        )
    return entry.builder(num_classes=num_classes, in_channels=in_channels, **kw)


def create_model(name: str, num_classes: int, in_channels: int = 3, **kw: Any) -> nn.Module:
    """Build the registered model `name` returning (N, num_classes, H, W) logits.

    Args:
        name: a name from `list_models()`; unknown names raise KeyError listing the valid ones.
        num_classes: output channels (4 for ICSI frames, 2 for inclusion close-ups).
        in_channels: input channels (3 for RGB; grey images may use 1).
        **kw: keyword-only model options, e.g. `backbone_weights=path` to a local torchvision
            ImageNet state dict. Without it the model is randomly initialised (one log line says so).
    """
    model = build_model(name, num_classes, in_channels, **kw)
    if kw.get("backbone_weights") is None:
        entry = get_model_entry(name)
        why = "no backbone_weights given" if entry.backbone else "it has no pretrained backbone"
        logger.info("%s: randomly initialised (%s)", name, why)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of parameters (trainable or not)."""
    return sum(p.numel() for p in model.parameters())
