"""Pick and load a predictor from a model file: a checkpoint (.pt) for torch, an .onnx for ONNX Runtime."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from oocyteseg.data.preprocess import InputSpec
from oocyteseg.errors import OocytesegError
from oocyteseg.inference.onnx_predictor import META_PREFIX, OnnxPredictor, export_checkpoint_onnx
from oocyteseg.classes import labels_from_extra
from oocyteseg.inference.predictor import TorchPredictor
from oocyteseg.models import load_checkpoint

BACKENDS = ("torch", "onnx")


def load_predictor(model: str | os.PathLike, backend: str | None = None, size: tuple[int, int] | None = None,
                   threads: int | None = None, onnx_dir: str | os.PathLike | None = None,
                   device: str | None = None, tta: str | None = None) -> tuple[Any, dict[str, Any]]:
    """Load a predictor and describe it; returns (predictor, model_info).

    Args:
        model: a portable checkpoint (.pt) or an ONNX file written by `oocyteseg export`.
        backend: "torch" or "onnx"; default: "onnx" for .onnx files, "torch" otherwise. A checkpoint
            with backend "onnx" is exported first, into `onnx_dir` (default: next to the checkpoint).
        size: (height, width) to run the model at (default: its training size). ONNX files are fixed
            at their export size.
        threads: torch intra-op threads or ONNX Runtime intra-op threads (None: library default).
        tta: test-time augmentation, one of `data.preprocess.TTA_MODES` (None: none); doubles the model time.
    """
    path = Path(model)
    is_onnx = path.suffix.lower() == ".onnx"
    backend = backend or ("onnx" if is_onnx else "torch")
    if backend not in BACKENDS:
        raise OocytesegError(f"unknown backend {backend!r}", fix=f"use one of {', '.join(BACKENDS)}")
    if is_onnx and backend == "torch":
        raise OocytesegError("an ONNX file runs only with --backend onnx", path,
                             "give the checkpoint (.pt) for torch, or drop --backend")
    if backend == "onnx":
        if not is_onnx:
            folder = Path(onnx_dir) if onnx_dir else path.parent
            suffix = f"-{size[0]}x{size[1]}" if size else ""
            target = folder / f"{path.stem}{suffix}.onnx"
            path = export_checkpoint_onnx(path, target, size=size, overwrite=True)
        elif size is not None:
            raise OocytesegError("an ONNX model runs at the size it was exported at", path,
                                 "drop --size, or export again with `oocyteseg export --size H W`")
        predictor = OnnxPredictor(path, threads=threads, device=device, tta=tta)
        config = json.loads(predictor.metadata.get(META_PREFIX + "model_config", "{}"))
        quantization = json.loads(predictor.metadata.get(META_PREFIX + "quantization", "null"))
    else:
        if threads:
            torch.set_num_threads(int(threads))
        net, config, extra = load_checkpoint(path)
        quantization = None
        predictor = TorchPredictor(net, InputSpec.from_extra(extra, size).with_tta(tta), device,
                                   labels_from_extra(extra))
    info = {"path": str(path), "name": config.get("name", "?"), "backend": backend,
            "size": list(predictor.size) if predictor.size else None, "labelset": predictor.labels.name,
            "label_set": predictor.labels.to_dict(),
            "threads": threads, "tta": predictor.spec.tta, "quantization": quantization,
            "device": str(getattr(predictor, "device", None) or predictor.session.get_providers()[0])}
    return predictor, info
