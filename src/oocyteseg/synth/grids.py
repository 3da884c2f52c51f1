"""Sample grids for eyeballing the GAN (label map | generated | real) and nearest-real-image search."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from oocyteseg.classes import LabelSet
from oocyteseg.io.images import write_image


def colorize(mask: np.ndarray, label_set: LabelSet) -> np.ndarray:
    """Index mask (H, W) -> RGB uint8 (H, W, 3) with the label set's display colours."""
    palette = np.array(label_set.colors, np.uint8)
    return palette[np.clip(mask, 0, len(palette) - 1)]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) tensor in [-1, 1] -> (N, H, W, 3) uint8 (rounded, clipped)."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round()
    return x.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def grid_image(rows: Sequence[Sequence[np.ndarray]], gap: int = 2, background: int = 255) -> np.ndarray:
    """Tile RGB uint8 images into rows (each cell padded to the largest cell) separated by `gap` pixels."""
    cells = [[c if c.ndim == 3 else np.repeat(c[..., None], 3, axis=2) for c in row] for row in rows]
    cell_h = max(c.shape[0] for row in cells for c in row)
    cell_w = max(c.shape[1] for row in cells for c in row)
    n_cols = max(len(row) for row in cells)
    out = np.full((len(cells) * (cell_h + gap) - gap, n_cols * (cell_w + gap) - gap, 3), background, np.uint8)
    for r, row in enumerate(cells):
        for c, cell in enumerate(row):
            y, x = r * (cell_h + gap), c * (cell_w + gap)
            out[y:y + cell.shape[0], x:x + cell.shape[1]] = cell
    return out


def save_grid(path: str | os.PathLike, rows: Sequence[Sequence[np.ndarray]], overwrite: bool = True) -> Path:
    """Write a grid of RGB images as one PNG (atomic)."""
    return write_image(path, grid_image(rows), overwrite=overwrite)


def _signature(image: np.ndarray, size: int) -> np.ndarray:
    gray = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255.0


def nearest_real(generated: np.ndarray, real_images: Sequence[np.ndarray], size: int = 64) -> tuple[int, float]:
    """Index of the real image closest to `generated`, and its distance.

    Distance: root-mean-square difference of grayscale thumbnails (size x size, values in [0, 1]),
    so 0 means identical thumbnails; a generated image copying a training image shows up as ~0.
    """
    if len(real_images) == 0:
        raise ValueError("nearest_real needs at least one real image")
    query = _signature(generated, size)
    bank = np.stack([_signature(r, size) for r in real_images])
    dist = np.sqrt(((bank - query) ** 2).mean(axis=1))
    best = int(dist.argmin())
    return best, float(dist[best])


def write_nearest_grid(path: str | os.PathLike, label_maps: Sequence[np.ndarray], generated: Sequence[np.ndarray],
                       real_images: Sequence[np.ndarray], label_set: LabelSet, overwrite: bool = True) -> list[float]:
    """Write rows (label map | generated | nearest real image) for a report; return the distances."""
    rows, distances = [], []
    for mask, fake in zip(label_maps, generated, strict=True):
        index, dist = nearest_real(fake, real_images)
        rows.append([colorize(mask, label_set), fake, real_images[index]])
        distances.append(dist)
    save_grid(path, rows, overwrite=overwrite)
    return distances
