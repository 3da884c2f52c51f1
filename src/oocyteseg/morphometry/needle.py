"""Needle tip: the extreme point of the needle along its own axis, at sub-pixel precision.

1. Largest needle outline, filled (a closed lumen becomes needle); its axis is the first principal
   axis of the filled region's second moments.
2. Direction: the needle enters the image from a border, so the tip is the end away from the border
   the needle touches; when it touches no border, the end towards the oocyte centroid.
3. Tip: marching-squares contour (pixel-edge midpoints, so no half-pixel bias) of the last
   `TIP_WINDOW` px of the needle; the points within `TIP_BAND` px of the extreme projection are
   averaged. An open lumen splits the end face into two lips; their mean is the centre of the opening.

The pixel constants below are for 480x640 frames; they are scaled with the frame size
(`oocyteseg.morphometry.scale`: lengths by s, areas by s²).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from skimage.measure import find_contours

from oocyteseg.morphometry.scale import frame_scale
from oocyteseg.morphometry.shapes import largest_region

MIN_NEEDLE_PX = 20  # smaller needle blobs carry no usable axis
MIN_ELONGATION = 1.5  # sqrt(lambda1/lambda2) below which the axis is not defined
TIP_WINDOW = 12.0  # px along the axis kept around the tip for the sub-pixel contour
TIP_BAND = 1.0  # px: contour points this close to the extreme are averaged
BORDER_MARGIN = 1.0  # px: a tip this close to the image edge may continue outside the image
MIN_FRAGMENT_PX = 4  # smaller needle pieces are noise
FRAGMENT_GAP = 60.0  # px: largest gap along the axis bridged between needle pieces


@dataclass
class NeedleTip:
    """Result of `needle_tip`; x, y are NaN when no tip can be given, with reasons saying why."""

    x: float = math.nan
    y: float = math.nan
    axis: tuple[float, float] = (math.nan, math.nan)  # unit vector from the back towards the tip
    length: float = math.nan  # extent of the needle along its axis, px
    width: float = math.nan  # area / length, px
    components: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not math.isnan(self.x)


def needle_tip(needle: np.ndarray, toward: tuple[float, float] | None = None,
               outlines: Sequence[np.ndarray] | None = None) -> NeedleTip:
    """Find the needle tip in a boolean needle mask.

    Args:
        needle: HxW boolean mask of the needle class.
        toward: (x, y) of the oocyte centroid, used to orient a needle that touches no border.
        outlines: the mask's outer contours when known (`MaskShapes.outlines`), else traced here.
    """
    out = NeedleTip()
    s = frame_scale(needle.shape)
    if outlines is None:
        outlines = cv2.findContours(needle.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
    crop, x0, y0, out.components, outline = largest_region(needle, outlines)
    if crop is None:
        out.reasons.append("no_needle")
        return out
    area = float(crop.sum())
    if area < MIN_NEEDLE_PX * s * s:
        out.reasons.append("needle_too_small")
        return out
    h, w = needle.shape
    m = cv2.moments(crop, binaryImage=True)
    mean = np.array([m["m10"] / m["m00"] + x0, m["m01"] / m["m00"] + y0])
    cov = np.array([[m["mu20"], m["mu11"]], [m["mu11"], m["mu02"]]]) / m["m00"] + np.eye(2) / 12
    evals, evecs = np.linalg.eigh(cov)
    if math.sqrt(evals[1] / evals[0]) < MIN_ELONGATION:
        out.reasons.append("needle_not_elongated")
        return out
    u = evecs[:, 1]
    pts = outline.astype(np.float64)
    t = (pts - mean) @ u
    t_min, t_max = float(t.min()), float(t.max())
    out.length = t_max - t_min + 1.0
    out.width = area / out.length

    on_border = (pts[:, 0] == 0) | (pts[:, 0] == w - 1) | (pts[:, 1] == 0) | (pts[:, 1] == h - 1)
    sign = _orientation(t[on_border], t_min, t_max, mean, u, toward, out.reasons)
    if sign == 0:
        return out
    u = u * sign
    out.axis = (float(u[0]), float(u[1]))
    t = t * sign
    t_end = float(t.max())
    if on_border.any() and float(t[on_border].max()) >= t_end - BORDER_MARGIN * s:
        out.reasons.append("needle_at_border")
        return out

    if out.components > 1:
        extra = _fragments_ahead(outlines, mean, u, t_end, out.width, s)
        if len(extra):
            out.reasons.append("needle_fragmented")
            pts, crop, x0, y0 = np.vstack([pts, extra]), needle.astype(np.uint8), 0, 0
            t = (pts - mean) @ u
            t_end = float(t.max())
            on_border = (pts[:, 0] == 0) | (pts[:, 0] == w - 1) | (pts[:, 1] == 0) | (pts[:, 1] == h - 1)
            if on_border.any() and float(t[on_border].max()) >= t_end - BORDER_MARGIN * s:
                out.reasons.append("needle_at_border")
                return out
    tip = _subpixel_tip(crop, x0, y0, pts[t >= t_end - TIP_WINDOW * s], mean, u, TIP_BAND * s)
    margin = BORDER_MARGIN * s
    if tip[0] < margin - 0.5 or tip[1] < margin - 0.5 or tip[0] > w - 0.5 - margin or tip[1] > h - 0.5 - margin:
        out.reasons.append("needle_at_border")
        return out
    out.x, out.y = float(tip[0]), float(tip[1])
    return out


def _orientation(t_border: np.ndarray, t_min: float, t_max: float, mean: np.ndarray, u: np.ndarray,
                 toward: tuple[float, float] | None, reasons: list[str]) -> int:
    """+1 if the tip is at the t_max end, -1 if at t_min, 0 (with a reason) if undecidable."""
    mid = 0.5 * (t_min + t_max)
    by_oocyte = 0
    if toward is not None and all(math.isfinite(v) for v in toward):
        d = float((np.asarray(toward, dtype=np.float64) - mean) @ u)
        by_oocyte = int(np.sign(d))
    if len(t_border):
        low, high = bool((t_border < mid).any()), bool((t_border >= mid).any())
        if low and high:
            reasons.append("needle_at_border")  # enters and leaves the image: the tip is outside
            return 0
        by_border = 1 if low else -1
        if by_oocyte and by_oocyte != by_border:
            reasons.append("needle_points_away_from_oocyte")
        return by_border
    reasons.append("needle_not_at_border")
    if by_oocyte == 0:
        reasons.append("needle_direction_unknown")
    return by_oocyte


def _fragments_ahead(contours: Sequence[np.ndarray], mean: np.ndarray, u: np.ndarray, t_end: float,
                     width: float, s: float = 1.0) -> np.ndarray:
    """Outline points (from the needle's outer `contours`) of smaller pieces that continue the main piece.

    A segmentation may lose the needle where it crosses the oocyte and keep the tip as a separate
    piece. A piece belongs to the needle when it lies within `width` + 2 px of the axis line, starts
    beyond TIP_WINDOW px before the current end, and the gap to the current end is at most
    FRAGMENT_GAP px; pieces are chained in order along the axis. Pixel constants are times the frame
    scale `s` (areas times s²).
    """
    normal = np.array([-u[1], u[0]])
    pieces = []
    for c in contours:
        p = c[:, 0, :].astype(np.float64)
        tp = (p - mean) @ u
        if cv2.contourArea(c) + len(c) / 2 + 1 < MIN_FRAGMENT_PX * s * s or tp.min() < t_end - TIP_WINDOW * s:
            continue
        if np.abs((p - mean) @ normal).max() <= width + 2 * s:
            pieces.append((float(tp.min()), float(tp.max()), p))
    kept = []
    for start, stop, p in sorted(pieces, key=lambda q: q[0]):
        if start - t_end > FRAGMENT_GAP * s:
            break
        kept.append(p)
        t_end = max(t_end, stop)
    return np.vstack(kept) if kept else np.zeros((0, 2))


def _subpixel_tip(crop: np.ndarray, x0: int, y0: int, window: np.ndarray, mean: np.ndarray,
                  u: np.ndarray, band: float = TIP_BAND) -> np.ndarray:
    """Mean of the marching-squares contour points within `band` px of the extreme along u.

    `window` holds the outline points near the tip; the contour is traced on the part of the needle
    crop inside their bounding box (padded with zeros so every contour is closed).
    """
    lo = np.floor(window.min(axis=0)).astype(int) - [x0, y0]
    hi = np.ceil(window.max(axis=0)).astype(int) - [x0, y0] + 1
    sub = np.pad(crop[lo[1]:hi[1], lo[0]:hi[0]].astype(np.float32), 1)
    contour = np.vstack(find_contours(sub, 0.5))
    cxy = np.column_stack([contour[:, 1] + lo[0] + x0 - 1, contour[:, 0] + lo[1] + y0 - 1])
    proj = (cxy - mean) @ u
    return cxy[proj >= proj.max() - band].mean(axis=0)
