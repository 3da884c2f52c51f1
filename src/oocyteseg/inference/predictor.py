"""Torch predictor: images at any size in, index masks at the same size out.

The model runs at the resolution it was trained at (the checkpoint records it); logits are resized
back to the input size with bilinear interpolation before the argmax, so masks align pixel for pixel.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from oocyteseg.classes import ICSI, LabelSet, get_label_set
from oocyteseg.data.dataset import image_to_tensor, resize_pair
from oocyteseg.models import load_checkpoint


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def labels_from_extra(extra: dict | None) -> LabelSet:
    """The label set a checkpoint was trained on (`extra["labelset"]`), ICSI when not recorded."""
    name = (extra or {}).get("labelset")
    return get_label_set(name) if name else ICSI


class TorchPredictor:
    """Segment RGB uint8 images with a torch model.

    Args:
        model: a registered model (logits N x C x H x W).
        size: (height, width) the model expects, or None for the native image size.
        device: where to run (default: CUDA if available).
        labels: the label set of the model's output channels (default ICSI).
    """

    backend = "torch"

    def __init__(self, model: torch.nn.Module, size: tuple[int, int] | None = None,
                 device: torch.device | str | None = None, labels: LabelSet | None = None):
        self.device = torch.device(device) if device is not None else default_device()
        self.model = model.to(self.device).eval()
        self.size = tuple(size) if size else None
        self.labels = labels or ICSI

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, size: tuple[int, int] | None = None,
                        device: torch.device | str | None = None) -> "TorchPredictor":
        """Load a portable checkpoint; the input size defaults to the one recorded at training time."""
        model, _, extra = load_checkpoint(Path(path), map_location="cpu")
        if size is None and extra:
            recorded = extra.get("size")
            size = tuple(recorded) if recorded else None
        return cls(model, size, device, labels_from_extra(extra))

    @torch.inference_mode()
    def predict_logits(self, images: Sequence[np.ndarray]) -> torch.Tensor:
        """Logits (N, C, H, W) at the size of the input images (all images must share one size)."""
        h, w = images[0].shape[:2]
        batch = torch.stack([image_to_tensor(resize_pair(im, None, self.size)[0]) for im in images])
        logits = self.model(batch.to(self.device))
        if logits.shape[-2:] != (h, w):
            logits = F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)
        return logits

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """Index masks (uint8, H x W) for a list of RGB uint8 images (each keeps its own size).

        Same arithmetic as `predict_logits` + argmax, with the CPU-cheap pre/post-processing shared
        with `OnnxPredictor` (lookup-table normalisation, per-class bilinear upsampling, running max).
        """
        from oocyteseg.inference.onnx_predictor import logits_to_mask, normalisation_lut, preprocess

        lut = normalisation_lut()
        masks: list[np.ndarray] = []
        with torch.inference_mode():
            for i in range(0, len(images), batch_size):
                chunk = images[i:i + batch_size]
                if self.size is None and len({im.shape[:2] for im in chunk}) > 1:  # native sizes differ
                    masks += [self.predict([im], 1)[0] for im in chunk]
                    continue
                batch = torch.from_numpy(preprocess(chunk, self.size, lut=lut)).to(self.device)
                logits = self.model(batch).float().cpu().numpy()
                masks += [logits_to_mask(lg, *im.shape[:2]) for lg, im in zip(logits, chunk)]
        return masks
