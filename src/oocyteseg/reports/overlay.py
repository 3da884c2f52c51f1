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
