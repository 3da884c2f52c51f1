"""A second, native-resolution look at the needle tip (issue 14, item 4).

The fast model runs on the whole frame at half resolution, where the needle's faded tip falls below a
pixel and the predicted needle stops short. `TipRefinedPredictor` runs a second model, trained on
native-resolution crops (`oocyteseg train ... --set data.size=[480,640] --set data.crop=[256,320]
--set data.crop_focus=0.5`), on a `CROP`-sized window of the native frame centred on the fast model's tip,
and adds the needle pixels it finds there that touch the fast model's needle (components meeting its 5x5
dilation); nothing else of the mask changes. `oocyteseg analyze --tip-model CKPT` turns it on. Measured on
every frame of the demo's held-out phantom video (docs/results.md, "The second look, measured"): mean tip
error 12.0 -> 7.4 px, at 26.7 instead of 31.2 frames/s end to end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from oocyteseg.errors import OocytesegError
from oocyteseg.morphometry.features import frame_features

CROP = (128, 192)  # (height, width) of the native window around the tip


def tip_window(frame_hw: tuple[int, int], tip: tuple[float, float], crop: tuple[int, int] = CROP
               ) -> tuple[int, int] | None:
    """Top-left (x0, y0) of the `crop` window centred on `tip`, shifted inside the frame; None when the
    frame is smaller than the window."""
    h, w = crop
    if frame_hw[0] < h or frame_hw[1] < w:
        return None
    return (int(np.clip(int(tip[0]) - w // 2, 0, frame_hw[1] - w)),
            int(np.clip(int(tip[1]) - h // 2, 0, frame_hw[0] - h)))


def add_touching_needle(mask: np.ndarray, found: np.ndarray, origin: tuple[int, int], needle: int) -> np.ndarray:
    """`mask` (copied) plus the components of the window mask `found == needle` (8-connected) that meet the
    5x5 dilation of the mask's needle inside the window at `origin` (x0, y0)."""
    x0, y0 = origin
    h, w = found.shape
    out = mask.copy()
    block = out[y0:y0 + h, x0:x0 + w]
    _, comp = cv2.connectedComponents((found == needle).view(np.uint8), connectivity=8)
    near = cv2.dilate((block == needle).view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    touching = np.unique(comp[near & (comp > 0)])
    if touching.size:
        block[np.isin(comp, touching)] = needle
    return out


def refine_tip(image: np.ndarray, mask: np.ndarray, tip: tuple[float, float], crop_predictor: Any, needle: int,
               crop: tuple[int, int] = CROP) -> np.ndarray:
    """`mask` plus the needle pixels `crop_predictor` finds in the native `crop` window around `tip` that
    connect to the mask's needle (a new array; `mask` is not changed). Frames smaller than the window are
    returned unchanged."""
    origin = tip_window(image.shape[:2], tip, crop)
    if origin is None:
        return mask
    x0, y0 = origin
    found = crop_predictor.predict([np.ascontiguousarray(image[y0:y0 + crop[0], x0:x0 + crop[1]])], batch_size=1)[0]
    return add_touching_needle(mask, found, origin, needle)


class TipRefinedPredictor:
    """A predictor whose needle tips are refined by a second, native-resolution model (see the module).

    Args:
        base: the whole-frame predictor (Torch/OnnxPredictor); its labels, spec and size are this one's.
        crop_predictor: the crop model's predictor; it must see `crop` windows at their native size (an ONNX
            file exported at `crop`, or a torch model run with no resize) and share `base`'s label set.
    """

    def __init__(self, base: Any, crop_predictor: Any, crop: tuple[int, int] = CROP):
        if base.labels.role("needle") is None:
            raise OocytesegError(f"a tip model needs a needle class; the model's classes are "
                                 f"{', '.join(base.labels.classes)}", fix="drop --tip-model")
        if list(crop_predictor.labels.classes) != list(base.labels.classes):
            raise OocytesegError(f"the tip model's classes ({', '.join(crop_predictor.labels.classes)}) differ from "
                                 f"the model's ({', '.join(base.labels.classes)})",
                                 fix="train the tip model on the same label set")
        self.base, self.crop_predictor, self.crop = base, crop_predictor, tuple(crop)
        self.labels, self.spec, self.size = base.labels, base.spec, base.size
        self.backend = base.backend

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """The base predictor's masks, each with its needle tip refined (frames with no tip unchanged)."""
        return refine_tips(images, self.base.predict(images, batch_size), self.crop_predictor, self.labels,
                           self.crop)


def refine_tips(images: Sequence[np.ndarray], masks: list[np.ndarray], crop_predictor: Any, labels: Any,
                crop: tuple[int, int] = CROP) -> list[np.ndarray]:
    """`masks` (the list is updated in place and returned) with each needle tip refined by `crop_predictor` in
    the native `crop` window around it; frames with no tip or smaller than the window are left as they are.
    The windows of one call go to the crop model as one batch. Used by `TipRefinedPredictor` (analyze) and by
    the Shimotsu study on its saved fold predictions."""
    needle = labels.role("needle")
    jobs = []  # (index, origin) of the frames with a tip and room for the window
    for i, (image, mask) in enumerate(zip(images, masks)):
        f = frame_features(mask, labels=labels)
        if np.isfinite(f["tip_x"]) and np.isfinite(f["tip_y"]):
            origin = tip_window(image.shape[:2], (f["tip_x"], f["tip_y"]), crop)
            if origin is not None:
                jobs.append((i, origin))
    h, w = crop
    windows = [np.ascontiguousarray(images[i][y0:y0 + h, x0:x0 + w]) for i, (x0, y0) in jobs]
    found = crop_predictor.predict(windows, batch_size=max(1, len(windows))) if windows else []
    for (i, origin), window_mask in zip(jobs, found):
        masks[i] = add_touching_needle(masks[i], window_mask, origin, needle)
    return masks
