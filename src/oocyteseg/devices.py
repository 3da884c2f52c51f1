"""Where models run: `--device auto` (CUDA when present, else CPU) for torch, and the matching ONNX Runtime
execution providers (CUDA when its package and a GPU are present, CPU otherwise)."""

from __future__ import annotations

import re

import torch

from oocyteseg.errors import OocytesegError

DEVICE_CHOICES = "auto, cpu, cuda, cuda:N"


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """"auto"/None -> CUDA if available else CPU; "cpu", "cuda", "cuda:N" as given (checked)."""
    if isinstance(name, torch.device):
        return name
    text = (name or "auto").strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if re.fullmatch(r"cuda(:\d+)?", text):
        if not torch.cuda.is_available():
            raise OocytesegError(f"device {name!r} asked for but no CUDA GPU is available", fix="use --device auto or cpu")
        return torch.device(text)
    raise OocytesegError(f"unknown device {name!r}; valid: {DEVICE_CHOICES}", fix="pass e.g. --device auto")


def onnx_providers(device: str | torch.device | None = "auto") -> list[str]:
    """ONNX Runtime providers for a device: CUDA first when the device is a GPU and onnxruntime has the CUDA
    provider (the onnxruntime-gpu package), CPU always as the fallback."""
    import onnxruntime as ort

    dev = resolve_device(device)
    if dev.type == "cuda" and "CUDAExecutionProvider" in ort.get_available_providers():
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def trainer_overrides(device: str | None) -> list[str]:
    """Config overrides (`--set` form) that make Lightning train on `device`; None keeps the config's own
    `trainer.accelerator` / `trainer.devices`. "cuda:N" trains on GPU N alone."""
    if device is None:
        return []
    dev = resolve_device(device)
    if dev.type == "cpu":
        return ["trainer.accelerator=cpu", "trainer.devices=1"]
    return ["trainer.accelerator=gpu", f"trainer.devices={dev.index if dev.index is not None else 0},"]
