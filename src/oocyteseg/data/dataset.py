"""PyTorch dataset over manifest rows: image tensor (normalised) and index-mask tensor."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from oocyteseg.errors import OocytesegError
from oocyteseg.data.preprocess import IMAGE_MEAN, IMAGE_STD, InputSpec, image_to_uint8_tensor01
from oocyteseg.io.images import read_image, read_mask

__all__ = ["IMAGE_MEAN", "IMAGE_STD", "SegmentationDataset", "random_crop_box"]


def random_crop_box(mask: np.ndarray, crop: tuple[int, int], focus: float, rng: np.random.Generator) -> tuple[int, int]:
    """Top-left corner of a crop of size `crop` = (h, w) inside `mask`'s frame.

    With probability `focus` the crop is centred (up to a random shift) on a pixel of one foreground class
    chosen uniformly among those present, so rare classes (a thin needle, a small sERC) are seen as often
    as the large ones; otherwise the corner is uniform.
    """
    H, W = mask.shape[:2]
    ch, cw = min(crop[0], H), min(crop[1], W)
    if rng.random() < focus:
        present = [c for c in np.unique(mask) if c != 0]
        if present:
            ys, xs = np.nonzero(mask == present[int(rng.integers(len(present)))])
            k = int(rng.integers(len(ys)))
            cy = ys[k] + int(rng.integers(-ch // 4, ch // 4 + 1))
            cx = xs[k] + int(rng.integers(-cw // 4, cw // 4 + 1))
            return int(np.clip(cy - ch // 2, 0, H - ch)), int(np.clip(cx - cw // 2, 0, W - cw))
    return int(rng.integers(H - ch + 1)), int(rng.integers(W - cw + 1))


class SegmentationDataset(Dataset):
    """Rows of a manifest as (image, mask) samples.

    Every image goes through `spec` (`oocyteseg.data.preprocess`, the path inference uses too): resized
    to the model size by its resize policy (the mask placed and padded exactly like its image), then (after the optional augmentation of the [0, 1] image) normalised.

    Args:
        rows: manifest rows (from `load_manifest`), with image_path and mask_path.
        spec: the model's input spec (size and normalisation); `InputSpec()` keeps the native size.
        transform: optional joint transform `f(image01, mask) -> (image01, mask)` on a [0, 1] float
            image tensor (3, H, W) and an int64 mask (H, W) (`oocyteseg.data.augment`).
        crop: (height, width) of a random crop taken from each resized image (training on patches),
            or None for the whole image.
        crop_focus: probability that a crop is centred on a foreground class (see `random_crop_box`).
        num_classes: masks with values >= num_classes raise an error naming the file.
        cache: keep each decoded, resized (image, mask) pair in memory after its first read
            (training reads every image many times; each data-loader worker holds its own copy).
    """

    def __init__(self, rows: pd.DataFrame, spec: InputSpec | None = None,
                 transform: Callable | None = None, num_classes: int | None = None, cache: bool = False,
                 crop: tuple[int, int] | None = None, crop_focus: float = 0.0):
        self.rows = rows.reset_index(drop=True)
        self.spec = spec or InputSpec()
        self.transform = transform
        self.crop = tuple(crop) if crop else None
        self.crop_focus = float(crop_focus)
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
        return self.spec.resize(image), self.spec.resize_mask(mask)

    def __getitem__(self, i: int) -> dict:
        image, mask = self.load(i)
        if self.crop is not None:
            # torch's generator: seeded per worker by Lightning / the DataLoader, like the augmentation
            rng = np.random.default_rng(int(torch.randint(2**31 - 1, ())))
            y0, x0 = random_crop_box(mask, self.crop, self.crop_focus, rng)
            image = image[y0:y0 + self.crop[0], x0:x0 + self.crop[1]]
            mask = mask[y0:y0 + self.crop[0], x0:x0 + self.crop[1]]
        y = torch.from_numpy(np.ascontiguousarray(mask).astype(np.int64))
        if self.transform is not None:
            x01, y = self.transform(image_to_uint8_tensor01(np.ascontiguousarray(image)), y)
            x = self.spec.normalize_tensor(x01).contiguous()
        else:
            x = self.spec.tensor(np.ascontiguousarray(image))
        row = self.rows.iloc[i]
        return {"image": x, "mask": y, "case": str(row["case"]), "index": i}
