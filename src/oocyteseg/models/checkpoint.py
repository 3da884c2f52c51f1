"""The project's portable whole-model checkpoint: weights plus the config that rebuilds the model.

A checkpoint alone is enough to get the model back (inference, ONNX export): it stores
`{"format": "oocyteseg-model", "version": 1, "model_config": {name, num_classes, in_channels,
kwargs}, "state_dict": ..., "extra": {...}}`, written atomically. Lightning's training checkpoints
are a different (training-only) format.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path
from oocyteseg.models.registry import build_model, get_model_entry

FORMAT = "oocyteseg-model"
VERSION = 1

# Options that point at files on the machine that built the model; the weights they held are
# already in the state dict, so they are not part of the portable config.
_LOCAL_ONLY = ("backbone_weights",)


def make_model_config(name: str, num_classes: int, in_channels: int = 3, **kwargs: Any) -> dict[str, Any]:
    """The config dict `create_model(name, num_classes, in_channels, **kwargs)` was called with."""
    return {"name": name, "num_classes": num_classes, "in_channels": in_channels, "kwargs": dict(kwargs)}


def normalise_model_config(model_config: dict[str, Any]) -> dict[str, Any]:
    """Validate a model config and return its portable form (file-path options removed)."""
    if not isinstance(model_config, dict) or "name" not in model_config or "num_classes" not in model_config:
        raise ValueError(f"model_config needs at least 'name' and 'num_classes', got {model_config!r}")
    unknown = set(model_config) - {"name", "num_classes", "in_channels", "kwargs"}
    if unknown:
        raise ValueError(f"model_config has unknown keys {sorted(unknown)}; use name, num_classes, in_channels, kwargs")
    kwargs = {k: v for k, v in dict(model_config.get("kwargs") or {}).items() if k not in _LOCAL_ONLY}
    config = {
        "name": str(model_config["name"]),
        "num_classes": int(model_config["num_classes"]),
        "in_channels": int(model_config.get("in_channels", 3)),
        "kwargs": kwargs,
    }
    json.dumps(config)  # plain values only, so the file loads with torch.load(weights_only=True)
    return config


def with_default_options(config: dict[str, Any]) -> dict[str, Any]:
    """`config` with every builder option it leaves out written in at its current default.

    A checkpoint then rebuilds the same architecture even if a later release changes a default
    (unet_small's base_channels went from 16 to 8, and checkpoints saved with `kwargs: {}` before that
    no longer loaded).
    """
    try:
        params = inspect.signature(get_model_entry(config["name"]).builder).parameters.values()
    except KeyError:
        return config
    filled = {}
    for p in params:
        if (p.name in ("num_classes", "in_channels") or p.name in _LOCAL_ONLY or p.name in config["kwargs"]
                or p.default is inspect.Parameter.empty):
            continue
        try:
            json.dumps(p.default)
        except TypeError:
            continue
        filled[p.name] = p.default
    return {**config, "kwargs": {**filled, **config["kwargs"]}}


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    model_config: dict[str, Any],
    extra: dict[str, Any] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write `model`'s weights with the config that rebuilds it, atomically.

    Args:
        path: output file (conventionally `.pt`).
        model: the model built from `model_config`.
        model_config: `{"name", "num_classes", "in_channels", "kwargs"}` (see `make_model_config`).
        extra: plain data to keep alongside (label set, epoch, metrics...): str/int/float/bool/None,
            lists, dicts and tensors only.
        overwrite: replace an existing file (otherwise OutputExistsError).
    """
    config = with_default_options(normalise_model_config(model_config))
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model_config": config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": dict(extra or {}),
    }
    with atomic_path(path, overwrite) as tmp:
        torch.save(payload, tmp)
    return Path(path)


def read_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read and check a checkpoint file's payload (no model is built)."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("model checkpoint does not exist", path, fix="give the .pt file written by training or save_checkpoint")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise OocytesegError(
            f"not a readable oocyteseg model checkpoint (corrupt or foreign file: {type(exc).__name__})",
            path,
            fix="give the .pt file written by training or save_checkpoint",
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        hint = "give the .pt file written by training or save_checkpoint"
        if isinstance(payload, dict) and "pytorch-lightning_version" in payload:
            hint = "this is a Lightning training checkpoint; give the portable model .pt saved next to it"
        raise OocytesegError("not an oocyteseg model checkpoint", path, fix=hint)
    if payload.get("version") != VERSION:
        raise OocytesegError(
            f"unsupported checkpoint version {payload.get('version')!r} (this oocyteseg reads {VERSION})",
            path,
            fix="use the oocyteseg release that wrote it",
        )
    config = payload.get("model_config")
    if not isinstance(config, dict) or not {"name", "num_classes", "in_channels", "kwargs"} <= set(config) or not isinstance(
        payload.get("state_dict"), dict
    ):
        raise OocytesegError("checkpoint lacks its model config or weights (damaged file)", path, fix="re-save it")
    return payload


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """Rebuild the model from a checkpoint; returns (model in eval mode, model_config, extra)."""
    payload = read_checkpoint(path, map_location)
    config = payload["model_config"]
    try:
        model = build_model(config["name"], config["num_classes"], config["in_channels"], **config["kwargs"])
        model.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError, TypeError, OocytesegError) as exc:
        if isinstance(exc, OocytesegError):
            reason = exc.message
        elif isinstance(exc, KeyError) and exc.args:
            reason = str(exc.args[0])
        else:
            reason = str(exc).splitlines()[0]
        raise OocytesegError(
            f"checkpoint does not match model {config['name']!r}: {reason}",
            path,
            fix="use the oocyteseg version that wrote it",
        ) from exc
    model.to(map_location).eval()
    return model, config, payload.get("extra") or {}
