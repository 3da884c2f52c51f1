"""LabelMe JSON: masks -> polygons (for annotation and correction) and polygons -> index masks.

Rasterisation follows LabelMe's own convention (PIL ImageDraw polygon, outline included), and shapes
are drawn in the label set's order (background, oocyte, sERC, needle: later classes on top), so
overlapping polygons flatten the way a person means them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from oocyteseg.classes import LabelSet
from oocyteseg.errors import OocytesegError

LABELME_VERSION = "5.4.1"


def class_regions(mask: np.ndarray, labels: LabelSet, close_radius: int = 9) -> dict[int, np.ndarray]:
    """Region a person would outline for each class, given that later classes are drawn on top.

    A class's region is its own pixels plus the pixels of classes drawn above it that it encloses
    (the needle crossing the oocyte, an sERC inside the oocyte), so its polygon is the whole object.
    """
    regions = {}
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close_radius + 1, 2 * close_radius + 1))
    for c in range(1, labels.num_classes):
        own = mask == c
        if not own.any():
            continue
        above = mask > c
        closed_own = cv2.morphologyEx(own.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
        regions[c] = _fill_holes(own | (above & closed_own)) & (own | above)
    return regions


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    from scipy.ndimage import binary_fill_holes

    return binary_fill_holes(binary)


def mask_to_shapes(mask: np.ndarray, labels: LabelSet, epsilon: float = 0.7,
                   min_area: float = 4.0) -> list[dict]:
    """Polygons (LabelMe shape dicts) for every class region of an index mask."""
    shapes = []
    for c, region in class_regions(mask, labels).items():
        contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        for cnt in contours:
            if cv2.contourArea(cnt) < min_area and len(cnt) < 3:
                continue
            poly = cv2.approxPolyDP(cnt, epsilon, True)[:, 0, :] if len(cnt) > 8 else cnt[:, 0, :]
            if len(poly) < 3:
                continue
            shapes.append({"label": labels.classes[c], "points": poly.astype(float).tolist(),
                           "group_id": None, "description": "", "shape_type": "polygon", "flags": {}})
    return shapes


def mask_to_labelme(mask: np.ndarray, labels: LabelSet, image_path: str, flags: dict | None = None) -> dict:
    """A LabelMe (v5) document for `mask`, pointing at `image_path` (relative to the JSON)."""
    h, w = mask.shape
    return {"version": LABELME_VERSION, "flags": flags or {}, "shapes": mask_to_shapes(mask, labels),
            "imagePath": image_path, "imageData": None, "imageHeight": int(h), "imageWidth": int(w)}


def rasterize_shapes(shapes: list[dict], labels: LabelSet, height: int, width: int,
                     source: str | os.PathLike = "<labelme>") -> np.ndarray:
    """Index mask from LabelMe polygon/rectangle/circle shapes, drawn in the label set's order."""
    by_class: dict[int, list[dict]] = {}
    for shape in shapes:
        try:
            c = labels.index(str(shape["label"]))
        except KeyError:
            raise OocytesegError(f"unknown label {shape.get('label')!r} (valid: {', '.join(labels.classes[1:])})",
                                 source, "rename the shape or add an alias in the classes file") from None
        by_class.setdefault(c, []).append(shape)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for c in sorted(by_class):
        for shape in by_class[c]:
            pts = [tuple(map(float, p)) for p in shape["points"]]
            kind = shape.get("shape_type") or "polygon"
            if kind == "polygon" and len(pts) >= 3:
                draw.polygon(pts, fill=c, outline=c)
            elif kind == "rectangle" and len(pts) == 2:
                (x0, y0), (x1, y1) = pts
                draw.rectangle([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], fill=c, outline=c)
            elif kind == "circle" and len(pts) == 2:
                (x0, y0), (x1, y1) = pts
                r = float(np.hypot(x1 - x0, y1 - y0))
                draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=c, outline=c)
            else:
                raise OocytesegError(f"unsupported shape {kind!r} with {len(pts)} points for label {shape['label']!r}",
                                     source, "use polygons (>= 3 points), rectangles or circles")
    return np.asarray(canvas, dtype=np.uint8)


def read_labelme_mask(path: str | os.PathLike, labels: LabelSet) -> np.ndarray:
    """Read a LabelMe JSON file and rasterise it into an index mask."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        h, w = int(doc["imageHeight"]), int(doc["imageWidth"])
        shapes = doc["shapes"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OocytesegError(f"malformed LabelMe JSON ({exc.__class__.__name__}: {exc})", path,
                             "re-save the file from LabelMe") from exc
    return rasterize_shapes(shapes, labels, h, w, source=path)
