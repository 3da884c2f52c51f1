"""Image + mask folders (Andreini style) -> a data set: pairs matched by file stem.

Masks may be index images (values are class indices), binary 0/255 masks for a two-class set, or
colour masks whose colours are those of the classes file. Masks must be lossless (PNG, BMP, TIFF).
Output layout as for `labelme` (OUT/images, OUT/masks, OUT/previews, OUT/manifest.csv, OUT/failed.csv).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from oocyteseg.data.ingest_common import (IngestResult, Progress, case_from_layout, collect_files, color_preview,
                                          finish_mask_ingest, safe_name)
from oocyteseg.data.manifest import MANIFEST_COLUMNS
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable
from oocyteseg.io.classes_file import ClassesFile, as_classes
from oocyteseg.io.images import read_image, write_image, write_mask

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
MASK_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".gif")


def mask_to_index(path: str | os.PathLike, classes: ClassesFile) -> np.ndarray:
    """Read a mask file as class indices: index values, 0/255 binary (two classes) or class colours."""
    path = Path(path)
    try:
        with Image.open(path) as im:
            if im.mode == "P":
                raw = np.asarray(im)
                if raw.max(initial=0) < classes.num_classes:
                    return raw.astype(np.uint8)
                im = im.convert("RGB")
            if im.mode in ("1", "L", "I", "I;16", "F"):
                return _grey_to_index(np.asarray(im), classes, path)
            rgb = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise OocytesegError(f"cannot read mask ({exc.__class__.__name__})", path, "replace it with a valid PNG") from exc
    if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
        return _grey_to_index(rgb[..., 0], classes, path)
    return _colours_to_index(rgb, classes, path)


def _grey_to_index(grey: np.ndarray, classes: ClassesFile, path: Path) -> np.ndarray:
    values = np.unique(grey)
    if values.max(initial=0) < classes.num_classes:
        return grey.astype(np.uint8)
    if classes.num_classes == 2 and set(values.tolist()) <= {0, 255}:
        return (grey > 0).astype(np.uint8)
    return _colours_to_index(np.repeat(grey.astype(np.uint8)[..., None], 3, axis=2), classes, path)


def _colours_to_index(rgb: np.ndarray, classes: ClassesFile, path: Path) -> np.ndarray:
    code = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
    out = np.full(code.shape, 255, np.uint8)
    for i, (r, g, b) in enumerate(classes.colors):
        out[code == ((r << 16) | (g << 8) | b)] = i
    if (out == 255).any():
        bad = np.unique(code[out == 255])[:3]
        found = ", ".join(str([(int(v) >> 16) & 255, (int(v) >> 8) & 255, int(v) & 255]) for v in bad)
        raise OocytesegError(f"mask has values/colours that are no class of {classes.name!r}: {found}", path,
                             "use index values 0..N-1, or add the colours to the classes file (lossless masks only)")
    return out


def _by_stem(files: list[tuple[Path, Path | None]], suffix: str, errors: list[OocytesegError],
             what: str) -> dict[str, tuple[Path, Path | None]]:
    """Files keyed by their path below the folder without suffix (e.g. `case01/img001`): same-named files in
    different case folders stay apart."""
    found: dict[str, tuple[Path, Path | None]] = {}
    for path, root in files:
        stem = path.stem[: -len(suffix)] if suffix and path.stem.endswith(suffix) else path.stem
        if root is not None:
            stem = (path.parent.relative_to(root) / stem).as_posix()
        if stem in found:
            errors.append(OocytesegError(f"duplicate {what} name {stem!r} (also {found[stem][0]})", path,
                                         "give every pair a unique file stem"))
            continue
        found[stem] = (path, root)
    return found


def ingest_folder(images_dir: str | os.PathLike, masks_dir: str | os.PathLike,
                  classes: ClassesFile | str | os.PathLike, out: str | os.PathLike, *, case: str | None = None,
                  mask_suffix: str = "", overwrite: bool = False, progress: Progress | None = None) -> IngestResult:
    """Pair images with masks by path and stem (a mask may carry `mask_suffix`, e.g. `_mask`) and write a data set.

    `images/case01/a.png` pairs with `masks/case01/a.png`, or with `masks/a.png` when the masks folder is flat.
    """
    classes = as_classes(classes)
    out = Path(out)
    manifest = check_writable(out / "manifest.csv", overwrite)
    result = IngestResult(table=None, rows=0)
    images = _by_stem(collect_files([images_dir], IMAGE_SUFFIXES, "image"), "", result.errors, "image")
    masks = _by_stem(collect_files([masks_dir], MASK_SUFFIXES, "mask"), mask_suffix, result.errors, "mask")
    flat = all("/" not in k for k in masks)
    mask_of = {k: k if k in masks else Path(k).name if flat and Path(k).name in masks else None for k in images}
    for stem in sorted(set(masks) - set(mask_of.values())):
        result.errors.append(OocytesegError(f"mask has no image named {stem}.*", masks[stem][0],
                                            "add the image or remove the mask"))
    rows = []
    stems = sorted(images)
    for n, stem in enumerate(stems):
        image_path, root = images[stem]
        try:
            if mask_of[stem] is None:
                raise OocytesegError(f"image has no mask named {stem}{mask_suffix}.*", image_path,
                                     "add the mask or remove the image")
            rows.append(_pair(Path(stem).name, image_path, masks[mask_of[stem]][0],
                              case_from_layout(image_path, root, case), classes, out, overwrite))
        except OocytesegError as exc:
            result.errors.append(exc)
        if progress:
            progress("pairs", n + 1, len(stems))
    return finish_mask_ingest(result, rows, MANIFEST_COLUMNS, manifest, classes, out, overwrite)


def _pair(stem: str, image_path: Path, mask_path: Path, case_id: str, classes: ClassesFile, out: Path,
          overwrite: bool) -> dict:
    image = read_image(image_path)
    mask = mask_to_index(mask_path, classes)
    if image.shape[:2] != mask.shape:
        raise OocytesegError(f"image is {image.shape[1]}x{image.shape[0]} but mask is {mask.shape[1]}x{mask.shape[0]}",
                             mask_path, "pair each image with the mask drawn on it (same size)")
    rel = f"{safe_name(case_id)}/{stem}.png"
    for kind in ("images", "masks", "previews"):
        check_writable(out / kind / rel, overwrite)
    write_image(out / "images" / rel, image, overwrite)
    write_mask(out / "masks" / rel, mask, classes.colors, overwrite)
    write_image(out / "previews" / rel, color_preview(image, mask, classes.colors), overwrite)
    h, w = mask.shape
    return {"case": case_id, "video": "", "frame_index": -1, "time_s": float("nan"), "image": f"images/{rel}",
            "mask": f"masks/{rel}", "source": "folder", "labelset": classes.name, "width": w, "height": h}
