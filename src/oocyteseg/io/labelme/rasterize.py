"""LabelMe document (parsed JSON) -> index mask: shapes rasterised the way LabelMe does, no file access.

See the package docstring for the rules (draw order, groups and holes, skipped and clipped shapes).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError

from oocyteseg.classes import LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import ClassesFile, as_classes

MAX_SIDE = 20000  # px: larger imageHeight/imageWidth values are treated as a malformed file
MAX_COORD = 1e6  # px: coordinates beyond this are treated as a malformed file
UNSUPPORTED = {"line", "point", "points", "linestrip"}
_FIX_JSON = "re-save the file from LabelMe, or fix the JSON by hand"
_NOT_LABELME_FIX = "pass LabelMe JSON files only"
# px left of the image on the canvas of a polygon past the border (see _polygon_mask). Large, so that PIL's
# float32 row crossings that fall on exact half pixels round as on any bigger canvas (near x = 0 they keep
# their rounding noise and may land a pixel off)
_LEFT_MARGIN = 1024

Labels = ClassesFile | LabelSet


@dataclass
class LabelmeAnnotation:
    """A rasterised LabelMe file: the index mask and what was skipped or clipped on the way."""

    mask: np.ndarray
    skipped: list[str] = field(default_factory=list)
    clipped: list[str] = field(default_factory=list)
    ignored: int = 0
    flags: dict = field(default_factory=dict)
    image_path: str | None = None
    has_image_data: bool = False

    @property
    def notes(self) -> list[str]:
        return self.skipped + self.clipped


class NotLabelmeError(OocytesegError):
    """A JSON file that is no LabelMe file at all (no 'shapes' key), e.g. a config next to the annotations."""


def _bad(message: str, source: Any, fix: str = _FIX_JSON) -> OocytesegError:
    return OocytesegError(message, source, fix)


def _dimension(doc: dict, key: str, source: Any) -> int | None:
    v = doc.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not float(v).is_integer() or not 1 <= v <= MAX_SIDE:
        raise _bad(f"{key} is {v!r}, expected a whole number of pixels in 1..{MAX_SIDE}", source)
    return int(v)


def _points(shape: dict, i: int, source: Any) -> np.ndarray:
    pts = shape.get("points")
    if pts is None:
        pts = []
    if not isinstance(pts, list):
        raise _bad(f"shape {i}: points is not a list", source)
    out = []
    for p in pts:
        if (not isinstance(p, (list, tuple)) or len(p) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)):
            raise _bad(f"shape {i}: point {p!r} is not [x, y]", source)
        if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in p):
            raise _bad(f"shape {i}: point {p!r} is not a finite coordinate within ±{MAX_COORD:g}", source)
        out.append((float(p[0]), float(p[1])))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _polygon_mask(pts: np.ndarray, h: int, w: int) -> np.ndarray:
    """PIL's filled polygon (LabelMe's rule) on the image, exactly as on a canvas holding the whole polygon.

    PIL truncates vertices to integers (toward zero) and rounds the span ends of each row asymmetrically
    about zero, so cutting the polygon at the border (new, fractional vertices) or drawing negative
    coordinates moves edge pixels. Instead the floored vertices (= PIL's truncation on a canvas large
    enough to hold the shape) are drawn, unclipped, on the image rows with a fixed margin to the left
    (rows need none: crossings are computed per whole row). PIL only scans the canvas rows and clamps
    spans to the canvas, so memory stays (w + margin) x h whatever the coordinates.
    """
    xy = np.floor(pts).astype(np.int64)
    inside = xy.min() >= 0 and (xy[:, 0] < w).all() and (xy[:, 1] < h).all()
    ox = 0 if inside else _LEFT_MARGIN  # in-image polygons: drawn as LabelMe draws them
    canvas = Image.new("1", (w + ox, h), 0)
    ImageDraw.Draw(canvas).polygon([(int(x) + ox, int(y)) for x, y in xy], fill=1, outline=1)
    return np.asarray(canvas, dtype=bool)[:, ox:]


def _extent(kind: str, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(min xy, max xy) a shape covers, or None for shapes without area."""
    if not len(pts):
        return None
    if kind == "circle" and len(pts) == 2:
        r = math.hypot(*(pts[1] - pts[0]))
        return pts[0] - r, pts[0] + r
    return pts.min(0), pts.max(0)


def _past_border(kind: str, pts: np.ndarray, h: int, w: int) -> bool:
    """Whether the shape reaches beyond the outer edge of the image's border pixels."""
    box = _extent(kind, pts)
    return box is not None and bool((box[0] < -0.5).any() or box[1][0] > w - 0.5 or box[1][1] > h - 0.5)


def _shape_mask(kind: str, pts: np.ndarray, shape: dict, h: int, w: int, i: int, source: Any) -> np.ndarray | str:
    """Boolean mask of one shape, or the reason it is skipped."""
    if kind == "polygon":
        if len(pts) < 3:
            return f"polygon with {len(pts)} point(s) (needs >= 3)"
        return _polygon_mask(pts, h, w)
    if kind == "rectangle":
        if len(pts) < 2:
            return f"rectangle with {len(pts)} point(s) (needs 2)"
        # PIL's filled rectangle: floored corners, both included; cut to the image after flooring (exact)
        (x0, y0), (x1, y1) = np.floor(pts.min(0)).astype(np.int64), np.floor(pts.max(0)).astype(np.int64)
        out = np.zeros((h, w), bool)
        out[max(y0, 0):max(y1 + 1, 0), max(x0, 0):max(x1 + 1, 0)] = True
        return out
    if kind == "circle":
        if len(pts) != 2:
            return f"circle with {len(pts)} point(s) (needs centre and a point on the circle)"
        (cx, cy), (px, py) = pts
        r = math.hypot(px - cx, py - cy)
        yy, xx = np.ogrid[:h, :w]
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r + 0.25
    if kind == "mask":
        return _mask_shape(pts, shape, h, w, i, source)
    return f"unsupported shape type {kind!r}"


def _mask_shape(pts: np.ndarray, shape: dict, h: int, w: int, i: int, source: Any) -> np.ndarray | str:
    """LabelMe 5 `mask` shape: a base64 PNG covering the box given by two points."""
    if len(pts) != 2 or not isinstance(shape.get("mask"), str):
        return "mask shape without 2 points and a base64 mask"
    try:
        sub = np.asarray(Image.open(io.BytesIO(base64.b64decode(shape["mask"], validate=True))).convert("L")) > 0
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError):
        return "mask shape whose mask is not a base64 image"
    x0, y0 = (math.floor(v) for v in pts.min(0))
    out = np.zeros((h, w), bool)
    ys, xs = slice(max(y0, 0), min(y0 + sub.shape[0], h)), slice(max(x0, 0), min(x0 + sub.shape[1], w))
    if ys.start < ys.stop and xs.start < xs.stop:
        out[ys, xs] = sub[ys.start - y0:ys.stop - y0, xs.start - x0:xs.stop - x0]
    return out


def parse_labelme(doc: Any, labels: Labels, source: str | os.PathLike = "<labelme>",
                  image_size: tuple[int, int] | None = None) -> LabelmeAnnotation:
    """Rasterise a parsed LabelMe document into an index mask (no file access).

    Args:
        doc: the JSON object.
        labels: classes file (aliases, draw order, hole labels) or a LabelSet.
        source: file name used in messages.
        image_size: (height, width) of the image, used when the document has no imageHeight/imageWidth.
    """
    classes = as_classes(labels)
    if not isinstance(doc, dict) or not isinstance(doc.get("shapes"), list):
        raise _bad("not a LabelMe file (no 'shapes' list)", source, _NOT_LABELME_FIX)
    h, w = _dimension(doc, "imageHeight", source), _dimension(doc, "imageWidth", source)
    if h is None or w is None:
        if image_size is None:
            raise _bad("imageHeight/imageWidth missing and no image to take them from", source)
        h, w = image_size
    flags = doc.get("flags") if isinstance(doc.get("flags"), dict) else {}
    image_path = doc.get("imagePath") if isinstance(doc.get("imagePath"), str) else None
    ann = LabelmeAnnotation(mask=np.zeros((h, w), np.uint8), flags=flags, image_path=image_path,
                            has_image_data=isinstance(doc.get("imageData"), str) and bool(doc.get("imageData")))
    groups: dict[tuple[int, Any], np.ndarray] = {}
    holes: list[tuple[int, Any, str, np.ndarray]] = []
    unknown: list[str] = []
    for i, shape in enumerate(doc["shapes"]):
        if not isinstance(shape, dict) or not isinstance(shape.get("label"), str):
            raise _bad(f"shape {i} has no text label", source)
        label = shape["label"]
        kind = shape.get("shape_type") or "polygon"  # LabelMe 3 files may omit shape_type
        if not isinstance(kind, str):
            raise _bad(f"shape {i}: shape_type {kind!r} is not text", source)
        gid = shape.get("group_id")
        if gid is not None and (isinstance(gid, bool) or not isinstance(gid, (int, str))):
            raise _bad(f"shape {i}: group_id {gid!r} is not a whole number or text", source)
        pts = _points(shape, i, source)
        cls = classes.lookup(label)
        if cls is None and not classes.is_hole(label):
            if classes.is_ignored(label):
                ann.ignored += 1
            else:
                unknown.append(label)
            continue
        tag = f"shape {i} ({label!r}, {kind})"
        region = _shape_mask(kind, pts, shape, h, w, i, source)
        if isinstance(region, str):
            ann.skipped.append(f"{tag}: {region}")
            continue
        if _past_border(kind, pts, h, w):
            kept = "kept the part inside" if region.any() else "nothing left inside"
            ann.clipped.append(f"{tag}: past the {w}x{h} image border, {kept}")
        if cls is None:
            holes.append((i, gid, tag, region))
            continue
        key = (cls, gid if gid is not None else f"#{i}")
        groups[key] = groups[key] | region if key in groups else region
    if unknown:
        known = ", ".join(sorted({*classes.names[1:], *(a for c in classes.classes for a in c.aliases)}))
        raise OocytesegError(f"unknown label(s) {sorted(set(unknown))} (known: {known})", source,
                             "rename the shapes in LabelMe or add the labels as aliases in the classes file")
    for i, gid, tag, region in holes:
        targets = [k for k in groups if k[1] == gid] if gid is not None else []
        if not targets:
            why = "hole without group_id" if gid is None else f"hole whose group_id {gid} has no shape"
            ann.skipped.append(f"{tag}: {why} (give it the group_id of the shape it cuts)")
            continue
        for k in targets:
            groups[k] = groups[k] & ~region
    for cls in classes.draw_indices():
        for (c, _), region in groups.items():
            if c == cls:
                ann.mask[region] = cls
    return ann


def rasterize_shapes(shapes: list[dict], labels: Labels, height: int, width: int,
                     source: str | os.PathLike = "<labelme>") -> np.ndarray:
    """Index mask from LabelMe shapes (see module docstring); skipped shapes raise OocytesegError."""
    ann = parse_labelme({"shapes": shapes, "imageHeight": height, "imageWidth": width}, labels, source)
    if ann.skipped:
        raise OocytesegError(f"cannot rasterise {ann.skipped[0]}", source,
                             "use polygons (>= 3 points), rectangles, circles or masks")
    return ann.mask
