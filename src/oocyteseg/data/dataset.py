"""PyTorch dataset over manifest rows: image tensor (normalised) and index-mask tensor."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from oocyteseg.errors import OocytesegError
from oocyteseg.io.images import read_image, read_mask

# ImageNet statistics: so that ImageNet-pretrained backbones given by --backbone-weights see what they expect.
IMAGE_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGE_STD = np.array([0.229, 0.224, 0.225], np.float32)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 RGB (H, W, 3) -> normalised float tensor (3, H, W)."""
    x = (image.astype(np.float32) / 255.0 - IMAGE_MEAN) / IMAGE_STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def resize_pair(image: np.ndarray, mask: np.ndarray | None, size: tuple[int, int] | None):
    """Resize an image (area/bilinear) and its mask (nearest) to size = (height, width)."""
    if size is None or image.shape[:2] == tuple(size):
        return image, mask
    h, w = size
    interp = cv2.INTER_AREA if h < image.shape[0] else cv2.INTER_LINEAR
    image = cv2.resize(image, (w, h), interpolation=interp)
    if mask is not None:
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return image, mask


class SegmentationDataset(Dataset):
    """Rows of a manifest as (image, mask) samples.

    Args:
        rows: manifest rows (from `load_manifest`), with image_path and mask_path.
        size: (height, width) to resize to, or None to keep the native size.
        transform: optional joint transform `f(image_tensor, mask_tensor) -> (image, mask)`.
        num_classes: masks with values >= num_classes raise an error naming the file.
        cache: keep each decoded, resized (image, mask) pair in memory after its first read
            (training reads every image many times; each data-loader worker holds its own copy).
    """

    def __init__(self, rows: pd.DataFrame, size: tuple[int, int] | None = None,
                 transform: Callable | None = None, num_classes: int | None = None, cache: bool = False):
        self.rows = rows.reset_index(drop=True)
        self.size = tuple(size) if size else None
        self.transform = transform
        self.num_classes = num_classes
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.rows)

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image (uint8 RGB) and mask (uint8) of row i, checked and resized."""
        if self._cache is not None:
            if i not in self._cache:
                self._cache[i] = self._read(i)
            return self._cache[i]
        return self._read(i)

    def _read(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        row = self.rows.iloc[i]
        image = read_image(row["image_path"])
        if not row["mask_path"]:
            raise OocytesegError("row has no mask", row["image_path"], "annotate it or drop it from the manifest")
        mask = read_mask(row["mask_path"])
        if image.shape[:2] != mask.shape:
            raise OocytesegError(f"image is {image.shape[1]}x{image.shape[0]} but mask is {mask.shape[1]}x{mask.shape[0]}",
                                 row["mask_path"], "regenerate the mask at the image's size")
        if self.num_classes is not None and mask.max() >= self.num_classes:
            raise OocytesegError(f"mask has class {int(mask.max())} but the label set has {self.num_classes} classes",
                                 row["mask_path"], "check the label set / classes file")
        return resize_pair(image, mask, self.size)

    def __getitem__(self, i: int) -> dict:
        image, mask = self.load(i)
        x, y = image_to_tensor(image), torch.from_numpy(mask.astype(np.int64))
        if self.transform is not None:
            x, y = self.transform(x, y)
        row = self.rows.iloc[i]
        return {"image": x, "mask": y, "case": str(row["case"]), "index": i}
