"""Torch predictor: images at any size in, index masks at the same size out.

The model runs at the resolution it was trained at, with its input statistics (the checkpoint records
both); images and logits go through the one preprocessing path (`oocyteseg.data.preprocess`), the same
as training, `evaluate` and the ONNX predictor, so masks align pixel for pixel.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from oocyteseg.classes import ICSI, LabelSet, labels_from_extra
from oocyteseg.data.preprocess import InputSpec, argmax_classes_torch, mirror_images, predict_labels, torch_runner
from oocyteseg.models import load_checkpoint


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    from oocyteseg.devices import resolve_device

    return resolve_device("auto")


class TorchPredictor:
    """Segment RGB uint8 images with a torch model.

    Args:
        model: a registered model (logits N x C x H x W).
        size: (height, width) the model expects, or None for the native image size; or an `InputSpec`
            (size and input statistics, what a checkpoint records).
        device: where to run (default: CUDA if available).
        labels: the label set of the model's output channels (default ICSI).
    """

    backend = "torch"

    def __init__(self, model: torch.nn.Module, size: tuple[int, int] | InputSpec | None = None,
                 device: torch.device | str | None = None, labels: LabelSet | None = None):
        from oocyteseg.devices import resolve_device

        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.spec = size if isinstance(size, InputSpec) else InputSpec(tuple(size) if size else None)
        self.size = self.spec.size
        self.labels = labels or ICSI

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, size: tuple[int, int] | None = None,
                        device: torch.device | str | None = None, tta: str | None = None) -> "TorchPredictor":
        """Load a portable checkpoint; the input size defaults to the one recorded at training time;
        `tta`: test-time augmentation (`data.preprocess.TTA_MODES`)."""
        model, _, extra = load_checkpoint(Path(path), map_location="cpu")
        return cls(model, InputSpec.from_extra(extra, size).with_tta(tta), device, labels_from_extra(extra))

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """Index masks (uint8, H x W) for a list of RGB uint8 images (each keeps its own size).

        On a CPU the logits go through `data.preprocess.logits_to_labels` (OpenCV); on an accelerator
        they are upsampled (bilinear, half-pixel centres as OpenCV) and arg-maxed there, so only the
        uint8 masks cross to the host."""
        if self.device.type == "cpu":
            return predict_labels(torch_runner(self.model, self.device), images, self.spec, batch_size)
        masks: list[np.ndarray] = []
        for start in range(0, len(images), batch_size):
            chunk = images[start:start + batch_size]
            i = 0
            while i < len(chunk):  # consecutive images of one size go together
                j = i + 1
                while j < len(chunk) and chunk[j].shape[:2] == chunk[i].shape[:2]:
                    j += 1
                group = chunk[i:j]
                mirrored = self.spec.batch(mirror_images(group)) if self.spec.tta == "flip" else None
                masks += device_labels(self.model, self.spec.batch(group), group[0].shape[:2], self.spec,
                                       self.device, mirrored)
                i = j
        return masks


def device_labels(model: torch.nn.Module, batch: np.ndarray, image_hw: tuple[int, int], spec: InputSpec,
                  device: torch.device, mirrored: np.ndarray | None = None) -> list[np.ndarray]:
    """Index masks of a normalised batch of images of one size, upsampled and arg-maxed on `device`;
    `mirrored`: the batch of their mirror images (flip test-time augmentation, as `logits_to_labels`)."""
    with torch.inference_mode():
        def valid(x: np.ndarray) -> torch.Tensor:
            logits = model(torch.from_numpy(x).to(device)).float()
            rows, cols = spec.valid_region(image_hw, tuple(logits.shape[2:]))
            return logits[:, :, rows, cols]

        logits = valid(batch)
        if mirrored is not None:
            logits = (logits + valid(mirrored).flip(-1)) * 0.5
        if tuple(logits.shape[2:]) != tuple(image_hw):
            logits = torch.nn.functional.interpolate(logits, size=tuple(image_hw), mode="bilinear",
                                                     align_corners=False)
        return list(argmax_classes_torch(logits).cpu().numpy())
