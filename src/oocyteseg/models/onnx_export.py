"""Export a segmentation model to ONNX (fixed H x W, dynamic batch) for ONNX Runtime inference."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch
from torch import nn

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path
from oocyteseg.models.layers import input_channels
from oocyteseg.models.static_padding import freeze_same_padding

INPUT_NAME = "image"
OUTPUT_NAME = "logits"


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    height: int,
    width: int,
    opset: int = 17,
    *,
    overwrite: bool = True,
) -> Path:
    """Write `model` as ONNX: input "image" (N, C, height, width) float32, output "logits" (N, K, height, width).

    The batch axis is dynamic; the spatial size is fixed at export (padding/cropping and resizing
    steps are traced for this size). The model is exported in eval mode on CPU with the
    TorchScript-based exporter (`dynamo=False`), which handles every registered model; the file
    is written atomically and checked with `onnx.checker`. TF-style "same" padding that depends on the
    input size is fixed for this size first (`freeze_same_padding`), so ONNX Runtime fuses it into the
    convolutions; `model` itself is not changed.
    """
    import onnx  # heavy; only needed here

    if height < 1 or width < 1:
        raise OocytesegError(f"export size must be positive, got {height}x{width}", path, fix="pass e.g. 480 640")
    was_training = model.training
    model = model.eval()
    device = next(model.parameters()).device
    dummy = torch.zeros(1, input_channels(model), height, width, device=device)
    exported, _ = freeze_same_padding(model, dummy)
    try:
        with atomic_path(path, overwrite) as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python ints
            torch.onnx.export(
                exported,
                (dummy,),
                str(tmp),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
            onnx.checker.check_model(str(tmp))
    finally:
        model.train(was_training)
    return Path(path)
