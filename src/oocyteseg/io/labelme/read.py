"""LabelMe files -> document, image and index mask: JSON checked on the way in, the image from imageData or
imagePath, its size checked against the JSON."""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from oocyteseg.errors import OocytesegError
from oocyteseg.io.labelme.rasterize import (_NOT_LABELME_FIX, LabelmeAnnotation, Labels, NotLabelmeError, _bad,
                                            parse_labelme)


def load_document(path: str | os.PathLike) -> dict:
    """Parse a LabelMe JSON file; unreadable or invalid JSON raises OocytesegError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("LabelMe file not found", path, "check the path")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _bad(f"malformed LabelMe JSON ({exc.__class__.__name__})", path) from None
    if not isinstance(doc, dict):
        raise NotLabelmeError("not a LabelMe file (top level is not an object)", path, _NOT_LABELME_FIX)
    if "shapes" not in doc:
        raise NotLabelmeError("not a LabelMe file (no 'shapes' key)", path, _NOT_LABELME_FIX)
    return doc


def load_labelme_image(doc: dict, json_path: str | os.PathLike) -> np.ndarray:
    """The annotated image: embedded imageData (what LabelMe shows) if present, else imagePath next to the JSON."""
    json_path = Path(json_path)
    data = doc.get("imageData")
    if isinstance(data, str) and data:
        try:
            with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as im:
                return np.asarray(im.convert("RGB"))
        except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
            raise _bad("imageData is not a base64-encoded image", json_path,
                       "re-save the file from LabelMe, or set imageData to null and imagePath to the image") from None
    rel = doc.get("imagePath")
    if not isinstance(rel, str) or not rel:
        raise _bad("no imageData and no imagePath", json_path, "set imagePath to the image file next to the JSON")
    rel = rel.replace("\\", "/")  # files saved by LabelMe on Windows
    candidates = [json_path.parent / rel, json_path.parent / Path(rel).name]
    for candidate in candidates:
        if candidate.is_file():
            from oocyteseg.io.images import read_image
            return read_image(candidate)
    raise OocytesegError(f"image {rel!r} named by imagePath not found", json_path,
                         "put the image next to the JSON or correct imagePath")


def read_labelme(path: str | os.PathLike, labels: Labels, *,
                 with_image: bool = True) -> tuple[LabelmeAnnotation, np.ndarray | None]:
    """Read a LabelMe file and (optionally) its image; checks that the image size matches the JSON."""
    doc = load_document(path)
    image = load_labelme_image(doc, path) if with_image else None
    size = image.shape[:2] if image is not None else None
    ann = parse_labelme(doc, labels, path, image_size=size)
    if size is not None and ann.mask.shape != size:
        raise OocytesegError(f"image is {size[1]}x{size[0]} but the JSON says {ann.mask.shape[1]}x{ann.mask.shape[0]} "
                             "(imageWidth x imageHeight)", path,
                             "open and re-save the file in LabelMe, or fix imageWidth/imageHeight")
    return ann, image


def read_labelme_mask(path: str | os.PathLike, labels: Labels) -> np.ndarray:
    """Read a LabelMe JSON file and rasterise it into an index mask (image not needed)."""
    return parse_labelme(load_document(path), labels, path).mask
