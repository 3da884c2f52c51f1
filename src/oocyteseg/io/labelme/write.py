"""Index mask -> LabelMe: each class region as simplified polygons (holes as hole shapes sharing a group_id),
in a v5 document that opens in LabelMe."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import as_classes
from oocyteseg.io.labelme.rasterize import Labels

LABELME_VERSION = "5.4.1"


def class_regions(mask: np.ndarray, labels: Labels, close_radius: int = 9) -> dict[int, np.ndarray]:
    """Region a person would outline for each class, given that later classes (draw order) are drawn on top.

    A class's region is its own pixels plus the pixels of classes drawn above it that it encloses
    (the needle crossing the oocyte, an sERC inside the oocyte), so its polygon is the whole object.
    """
    from scipy.ndimage import binary_fill_holes

    order = as_classes(labels).draw_indices()
    regions = {}
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close_radius + 1, 2 * close_radius + 1))
    for rank, c in enumerate(order):
        own = mask == c
        if c == 0 or not own.any():
            continue
        above = np.isin(mask, order[rank + 1:])
        closed_own = cv2.morphologyEx(own.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
        regions[c] = binary_fill_holes(own | (above & closed_own)) & (own | above)
    return regions


def _polygon(contour: np.ndarray, epsilon: float) -> np.ndarray:
    return cv2.approxPolyDP(contour, epsilon, True)[:, 0, :] if len(contour) > 8 else contour[:, 0, :]


def mask_to_shapes(mask: np.ndarray, labels: Labels, epsilon: float = 0.4, min_area: float = 4.0) -> list[dict]:
    """Simplified polygons (LabelMe shape dicts) for every class region of an index mask.

    A region with holes becomes its outline plus one hole shape per hole (label = the classes file's
    first hole label), all sharing a group_id, so that reading the file back restores the holes.
    """
    classes = as_classes(labels)
    hole_label = classes.hole_labels[0] if classes.hole_labels else None
    shapes: list[dict] = []
    group = 0
    for c, region in class_regions(mask, classes).items():
        mode = cv2.RETR_CCOMP if hole_label else cv2.RETR_EXTERNAL
        contours, hierarchy = cv2.findContours(region.astype(np.uint8), mode, cv2.CHAIN_APPROX_NONE)
        if not contours:
            continue
        hierarchy = hierarchy[0]
        for j, cnt in enumerate(contours):
            if hierarchy[j][3] != -1:  # a hole: written with its outer contour below
                continue
            outline = _polygon(cnt, epsilon)
            if len(outline) < 3 or (cv2.contourArea(cnt) < min_area and len(cnt) < 3):
                continue
            holes = []
            child = hierarchy[j][2]
            while child != -1:
                hole = _polygon(contours[child], epsilon)
                if len(hole) >= 3 and cv2.contourArea(contours[child]) >= min_area:
                    holes.append(hole)
                child = hierarchy[child][0]
            gid = None
            if holes:
                group += 1
                gid = group
            shapes.append(_shape(classes.names[c], outline, gid))
            shapes += [_shape(hole_label, hole, gid) for hole in holes]
    return shapes


def _shape(label: str, points: np.ndarray, group_id: int | None) -> dict:
    return {"label": label, "points": points.astype(float).tolist(), "group_id": group_id, "description": "",
            "shape_type": "polygon", "flags": {}, "mask": None}


def mask_to_labelme(mask: np.ndarray, labels: Labels, image_path: str, flags: dict | None = None,
                    image: np.ndarray | None = None) -> dict:
    """A LabelMe (v5) document for `mask`, pointing at `image_path` (relative to the JSON).

    Args:
        image: if given, embedded as base64 PNG imageData (the JSON then opens without the image file).
    """
    h, w = mask.shape
    data = None
    if image is not None:
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
    return {"version": LABELME_VERSION, "flags": flags or {}, "shapes": mask_to_shapes(mask, labels),
            "imagePath": image_path, "imageData": data, "imageHeight": int(h), "imageWidth": int(w)}


def write_labelme(path: str | os.PathLike, mask: np.ndarray, labels: Labels, *, image_path: str,
                  image: np.ndarray | None = None, embed_image: bool = False, flags: dict | None = None,
                  overwrite: bool = False) -> Path:
    """Write `mask` as a LabelMe JSON file (atomic) that opens in LabelMe.

    Args:
        image_path: the image's path relative to the JSON (LabelMe's imagePath).
        image: the image; embedded as imageData when `embed_image`, and used to check the size.
    """
    from oocyteseg.io.atomic import write_json

    if image is not None and image.shape[:2] != mask.shape:
        raise OocytesegError(f"image is {image.shape[1]}x{image.shape[0]} but mask is {mask.shape[1]}x{mask.shape[0]}",
                             path, "pass the image the mask was made from")
    doc = mask_to_labelme(mask, labels, image_path, flags, image=image if embed_image else None)
    return write_json(path, doc, overwrite)
