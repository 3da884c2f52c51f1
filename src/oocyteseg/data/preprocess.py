"""The one preprocessing path: image -> model input, and logits -> labels at the image's own size.

Training (`SegmentationDataset`), `evaluate` / `cv`, the studies' tables, `analyze` (torch and ONNX
Runtime), the demo and the web worker all go through `InputSpec` and `logits_to_labels`, so one frame
gives the same label map whichever command predicts it.

- Resize policy: the image is resized to the model size (height, width) with OpenCV, INTER_AREA when
  shrinking and INTER_LINEAR when enlarging; a mask with nearest neighbour. `size=None` keeps the
  native size.
- Normalisation: `(v / 255 - mean) / std` per channel, computed once for the 256 values of a byte (a
  lookup table); the mean and std are the model's (ImageNet for torchvision backbones, 0.5 / 0.5 for
  the TF-ported EfficientNet-Lite0) and are recorded in checkpoints and ONNX files.
- Labels: each class plane of the logits is resized bilinearly to the image size (half-pixel centres,
  as torch's `align_corners=False`) and the arg-max is a running maximum (first maximum wins).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import cv2
import numpy as np
import torch

# ImageNet statistics: what torchvision's ImageNet backbones expect (and the default for models without one).
IMAGE_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGE_STD = np.array([0.229, 0.224, 0.225], np.float32)


def resize_image(image: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """An image at size = (height, width): area interpolation to shrink, bilinear to enlarge."""
    if size is None or image.shape[:2] == tuple(size):
        return image
    h, w = size
    interp = cv2.INTER_AREA if h < image.shape[0] else cv2.INTER_LINEAR
    return cv2.resize(image, (w, h), interpolation=interp)


def resize_mask(mask: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """An index mask at size = (height, width), nearest neighbour."""
    if size is None or mask.shape[:2] == tuple(size):
        return mask
    return cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)


@dataclass(frozen=True)
class InputSpec:
    """How images become model input: the model size and the per-channel normalisation.

    Args:
        size: (height, width) the model runs at, or None for the image's native size.
        mean / std: per-channel statistics of [0, 1] RGB values.
    """

    size: tuple[int, int] | None = None
    mean: tuple[float, float, float] = tuple(IMAGE_MEAN.tolist())  # type: ignore[assignment]
    std: tuple[float, float, float] = tuple(IMAGE_STD.tolist())  # type: ignore[assignment]
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", tuple(int(v) for v in self.size) if self.size else None)
        object.__setattr__(self, "mean", tuple(float(v) for v in self.mean))
        object.__setattr__(self, "std", tuple(float(v) for v in self.std))

    @classmethod
    def from_extra(cls, extra: dict | None, size: Sequence[int] | None = None) -> InputSpec:
        """The spec a checkpoint's `extra` records (size, mean, std); `size` overrides the recorded one."""
        extra = extra or {}
        size = size if size is not None else extra.get("size")
        return cls(tuple(size) if size else None, tuple(extra.get("mean") or IMAGE_MEAN.tolist()),
                   tuple(extra.get("std") or IMAGE_STD.tolist()))

    @cached_property
    def lut(self) -> np.ndarray:
        """(3, 256) float32 table: value v of channel c -> (v / 255 - mean[c]) / std[c]."""
        v = np.arange(256, dtype=np.float32)[None, :] / np.float32(255.0)
        mean, std = np.asarray(self.mean, np.float32)[:, None], np.asarray(self.std, np.float32)[:, None]
        return ((v - mean) / std).astype(np.float32)

    def resize(self, image: np.ndarray) -> np.ndarray:
        """The image at the model size (the resize policy)."""
        return resize_image(image, self.size)

    def normalize(self, image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 RGB (H, W, 3) at its current size -> float32 (3, H, W), normalised."""
        h, w = image.shape[:2]
        out = np.empty((3, h, w), np.float32) if out is None else out
        for c, plane in enumerate(cv2.split(image)):
            np.take(self.lut[c], plane, out=out[c])
        return out

    def batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """uint8 RGB images of one size -> float32 batch (N, 3, h, w) at the model size."""
        first = self.resize(images[0])
        out = np.empty((len(images), 3, *first.shape[:2]), np.float32)
        for i, im in enumerate(images):
            self.normalize(first if i == 0 else self.resize(im), out[i])
        return out

    def tensor(self, image: np.ndarray) -> torch.Tensor:
        """One uint8 RGB image (already at the model size) -> normalised float tensor (3, H, W)."""
        return torch.from_numpy(self.normalize(image))

    def normalize_tensor(self, image01: torch.Tensor) -> torch.Tensor:
        """A [0, 1] float image tensor (3, H, W) -> normalised (the same arithmetic as the table)."""
        mean = torch.tensor(self.mean, dtype=image01.dtype).view(3, 1, 1)
        std = torch.tensor(self.std, dtype=image01.dtype).view(3, 1, 1)
        return (image01 - mean) / std

    def as_extra(self) -> dict:
        """What a checkpoint / ONNX file records of this spec."""
        return {"size": list(self.size) if self.size else None, "mean": list(self.mean), "std": list(self.std)}


def size_warning(frame_hw: tuple[int, int], spec: InputSpec, tolerance: float = 0.02) -> str | None:
    """A one-line warning when frames of `frame_hw` would be distorted by the resize policy (their aspect
    ratio differs from the model input's by more than `tolerance`), else None."""
    if spec.size is None:
        return None
    (h, w), (mh, mw) = frame_hw, spec.size
    frame, model = w / h, mw / mh
    if abs(frame / model - 1) <= tolerance:
        return None
    return (f"frames are {w}x{h} (aspect {frame:.3f}) but the model runs at {mw}x{mh} (aspect {model:.3f}): "
            "each frame is stretched to the model's aspect, so shapes and measurements are distorted; "
            "train a model on frames of this aspect")


def image_to_uint8_tensor01(image: np.ndarray) -> torch.Tensor:
    """uint8 RGB (H, W, 3) -> float tensor (3, H, W) in [0, 1] (the augmentation's input)."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255.0)


def logits_to_labels(logits: np.ndarray, height: int, width: int) -> np.ndarray:
    """Arg-max (uint8 height x width) of one image's logits (C, h, w), resized bilinearly to the image size."""
    logits = np.asarray(logits, np.float32)
    if logits.shape[1:] == (height, width):
        return logits.argmax(0).astype(np.uint8)
    best = cv2.resize(np.ascontiguousarray(logits[0]), (width, height), interpolation=cv2.INTER_LINEAR)
    index = np.zeros((height, width), np.uint8)
    for c in range(1, logits.shape[0]):
        plane = cv2.resize(np.ascontiguousarray(logits[c]), (width, height), interpolation=cv2.INTER_LINEAR)
        better = (plane > best).view(np.uint8)
        # index = c where better, else unchanged; uint8 arithmetic (mod 256) beats boolean indexing 20x
        index += better * (np.uint8(c) - index)
        np.maximum(best, plane, out=best)
    return index


def predict_labels(run: Callable[[np.ndarray], np.ndarray], images: Sequence[np.ndarray], spec: InputSpec,
                   batch_size: int = 8) -> list[np.ndarray]:
    """Index masks (uint8, each at its image's own size) of RGB uint8 images.

    Args:
        run: maps a float32 batch (N, 3, h, w) to logits (N, C, h', w') as a numpy array (a torch model
            or an ONNX Runtime session wrapped by the caller).
        images: any sizes; consecutive images of one size are batched together.
        spec: the model's input spec.
    """
    masks: list[np.ndarray] = []
    i = 0
    while i < len(images):
        shape = images[i].shape[:2]
        j = i + 1
        while j < len(images) and j - i < batch_size and images[j].shape[:2] == shape:
            j += 1
        chunk = images[i:j]
        logits = run(spec.batch(chunk))
        masks += [logits_to_labels(lg, *im.shape[:2]) for lg, im in zip(logits, chunk)]
        i = j
    return masks


def torch_runner(model: torch.nn.Module, device: torch.device | str = "cpu") -> Callable[[np.ndarray], np.ndarray]:
    """`run` for `predict_labels` from a torch model (eval mode, no gradients, logits back as float32 numpy)."""
    device = torch.device(device)

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(batch).to(device)).float().cpu().numpy()

    return run
