"""Reading and writing images and index masks (PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path


def read_image(path: str | os.PathLike, mode: str = "RGB") -> np.ndarray:
    """Read an image as a uint8 array (H, W, 3) for RGB or (H, W) for L; clear error if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("image not found", path, "check the path or the manifest entry")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert(mode))
    except (UnidentifiedImageError, OSError) as exc:
        raise OocytesegError(f"cannot read image ({exc.__class__.__name__})", path,
                             "replace it with a valid PNG/JPEG/TIFF file") from exc


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read an index mask PNG as a uint8 (H, W) array of class indices."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("mask not found", path, "check the path or the manifest entry")
    try:
        with Image.open(path) as im:
            if im.mode in ("P", "L", "I", "I;16"):
                arr = np.asarray(im)
            else:
                raise OocytesegError(f"mask has colour mode {im.mode}, expected an index (P/L) PNG", path,
                                     "convert colour masks with `oocyteseg dataset` using a classes file")
    except (UnidentifiedImageError, OSError) as exc:
        raise OocytesegError(f"cannot read mask ({exc.__class__.__name__})", path, "replace it with a valid PNG") from exc
    return arr.astype(np.uint8)


def write_image(path: str | os.PathLike, image: np.ndarray, overwrite: bool = True) -> Path:
    """Write a uint8 image (H, W) or (H, W, 3) as PNG/JPEG atomically."""
    path = Path(path)
    with atomic_path(path, overwrite) as tmp:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp, format=_format(path))
    return path


def write_mask(path: str | os.PathLike, mask: np.ndarray, palette: list[tuple[int, int, int]] | None = None,
               overwrite: bool = True) -> Path:
    """Write an index mask as a palette PNG (values are class indices; the palette only aids viewing)."""
    path = Path(path)
    im = Image.fromarray(mask.astype(np.uint8), mode="L")
    if palette:
        im = im.convert("P")
        flat = [v for rgb in palette for v in rgb]
        im.putpalette(flat + [0] * (768 - len(flat)))
    with atomic_path(path, overwrite) as tmp:
        im.save(tmp, format="PNG", optimize=False)
    return path


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(suffix, "PNG")
