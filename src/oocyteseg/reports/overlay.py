"""Mask overlays for figures, reports and overlay videos."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from oocyteseg.classes import LabelSet


def overlay_mask(image: np.ndarray, mask: np.ndarray, labels: LabelSet, alpha: float = 0.45,
                 contours: bool = True, outlines: Mapping[int, Sequence[np.ndarray]] | None = None) -> np.ndarray:
    """Blend class colours over an RGB image (background left untouched) and outline each class.

    8-bit OpenCV arithmetic (rounded; every frame of the overlay video goes through it). `outlines`:
    the outer contours of some classes (class id -> OpenCV contours) when the caller has them already
    (`morphometry.shapes.MaskShapes`); the others are traced here.
    """
    image = np.ascontiguousarray(image)
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    lut = np.zeros((3, 256), np.uint8)
    lut[:, :labels.num_classes] = np.asarray(labels.colors, np.uint8).T
    colour = cv2.merge([cv2.LUT(mask, lut[c]) for c in range(3)])
    blended = cv2.addWeighted(image, 1 - alpha, colour, alpha, 0)
    out = image.copy()
    cv2.copyTo(blended, (mask > 0).view(np.uint8), out)
    if contours:
        for c in range(1, labels.num_classes):
            cnts = (outlines or {}).get(c)
            if cnts is None:
                cnts, _ = cv2.findContours((mask == c).view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, cnts, -1, tuple(int(v) for v in labels.colors[c]), 1, lineType=cv2.LINE_AA)
    return out


def _finite(*values) -> bool:
    return all(v is not None and np.isfinite(v) for v in values)


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.45) -> None:
    """White text on a dark box (readable on any background)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = org
    cv2.rectangle(img, (x - 3, y - h - 3), (x + w + 3, y + base + 1), (20, 20, 20), -1)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def annotate_frame(image: np.ndarray, mask: np.ndarray, labels: LabelSet, features: dict,
                   time_s: float | None = None, outlines: Mapping[int, Sequence[np.ndarray]] | None = None) -> np.ndarray:
    """Overlay of `mask` (`overlay_mask`; `outlines` as there) plus the oocyte centre (circle), needle tip
    (cross), and f1..f4 as text."""
    out = overlay_mask(image, mask, labels, outlines=outlines)
    cx, cy = features.get("oocyte_cx"), features.get("oocyte_cy")
    tx, ty = features.get("tip_x"), features.get("tip_y")
    if _finite(cx, cy):
        c = (int(round(cx)), int(round(cy)))
        cv2.circle(out, c, 5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.circle(out, c, 5, (255, 255, 255), 1, cv2.LINE_AA)
    if _finite(tx, ty):
        t = (int(round(tx)), int(round(ty)))
        if _finite(cx, cy):
            cv2.line(out, t, (int(round(cx)), int(round(cy))), (255, 255, 255), 1, cv2.LINE_AA)
        cv2.drawMarker(out, t, (0, 0, 0), cv2.MARKER_CROSS, 15, 3, cv2.LINE_AA)
        cv2.drawMarker(out, t, (0, 255, 255), cv2.MARKER_CROSS, 15, 1, cv2.LINE_AA)

    def fmt(key: str, spec: str) -> str:
        v = features.get(key)
        return f"{key}=" + (format(v, spec) if _finite(v) else "-")

    scale = 0.45 * min(1.0, out.shape[1] / 640)  # the text line fits a 640-px-wide frame
    head = "" if time_s is None else f"t={time_s:.2f}s  "
    if "f1" in features:
        _text(out, head + "  ".join([fmt("f1", ".3f"), fmt("f2", ".4f"), fmt("f3", ".1f"), fmt("f4", ".1f")]),
              (6, int(8 + 20 * scale)), scale)
    elif head:
        _text(out, head, (6, int(8 + 20 * scale)), scale)
    reason = str(features.get("reason") or "")
    if reason:
        _text(out, reason[:80], (6, out.shape[0] - 8), 0.9 * scale)
    return out
