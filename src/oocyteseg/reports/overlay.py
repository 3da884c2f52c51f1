"""Mask overlays for figures, reports and overlay videos."""

from __future__ import annotations

import cv2
import numpy as np

from oocyteseg.classes import LabelSet


def overlay_mask(image: np.ndarray, mask: np.ndarray, labels: LabelSet, alpha: float = 0.45,
                 contours: bool = True) -> np.ndarray:
    """Blend class colours over an RGB image (background left untouched) and outline each class."""
    colors = np.asarray(labels.colors, np.float32)
    out = image.astype(np.float32).copy()
    fg = mask > 0
    out[fg] = (1 - alpha) * out[fg] + alpha * colors[mask[fg]]
    out = out.clip(0, 255).astype(np.uint8)
    if contours:
        for c in range(1, labels.num_classes):
            cnts, _ = cv2.findContours((mask == c).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, cnts, -1, tuple(int(v) for v in labels.colors[c]), 1, lineType=cv2.LINE_AA)
    return out


def overlay_mask_fast(image: np.ndarray, mask: np.ndarray, labels: LabelSet, alpha: float = 0.45,
                      contours: bool = True) -> np.ndarray:
    """`overlay_mask` in 8-bit OpenCV arithmetic (~5x faster; pixels differ by at most 1 grey level from
    rounding): used for every frame of the overlay video."""
    lut = np.zeros((3, 256), np.uint8)
    lut[:, :labels.num_classes] = np.asarray(labels.colors, np.uint8).T
    colour = cv2.merge([cv2.LUT(mask, lut[c]) for c in range(3)])
    blended = cv2.addWeighted(image, 1 - alpha, colour, alpha, 0)
    out = image.copy()
    cv2.copyTo(blended, (mask > 0).view(np.uint8), out)
    if contours:
        for c in range(1, labels.num_classes):
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
                   time_s: float | None = None) -> np.ndarray:
    """Overlay of `mask` plus the oocyte centre (circle), needle tip (cross), and f1..f4 as text."""
    out = overlay_mask_fast(np.ascontiguousarray(image), np.ascontiguousarray(mask, dtype=np.uint8), labels)
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
