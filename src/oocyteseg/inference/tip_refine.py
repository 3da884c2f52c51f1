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


def refine_tip(image: np.ndarray, mask: np.ndarray, tip: tuple[float, float], crop_predictor: Any, needle: int,
               crop: tuple[int, int] = CROP) -> np.ndarray:
    """`mask` plus the needle pixels `crop_predictor` finds in the native `crop` window around `tip` that
    connect to the mask's needle (a new array; `mask` is not changed). Frames smaller than the window are
    returned unchanged."""
    h, w = crop
    if image.shape[0] < h or image.shape[1] < w:
        return mask
    x0 = int(np.clip(int(tip[0]) - w // 2, 0, image.shape[1] - w))
    y0 = int(np.clip(int(tip[1]) - h // 2, 0, image.shape[0] - h))
    found = crop_predictor.predict([np.ascontiguousarray(image[y0:y0 + h, x0:x0 + w])], batch_size=1)[0] == needle
    out = mask.copy()
    block = out[y0:y0 + h, x0:x0 + w]
    n, comp = cv2.connectedComponents(found.view(np.uint8), connectivity=8)
    near = cv2.dilate((block == needle).view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    touching = np.unique(comp[near & (comp > 0)])
    if touching.size:
        block[np.isin(comp, touching)] = needle
    return out


class TipRefinedPredictor:
    """A predictor whose needle tips are refined by a second, native-resolution model (see the module).

    Args:
        base: the whole-frame predictor (Torch/OnnxPredictor); its labels, spec and size are this one's.
        crop_predictor: the crop model's predictor; it must see `crop` windows at their native size (an ONNX
            file exported at `crop`, or a torch model run with no resize) and share `base`'s label set.
    """

    def __init__(self, base: Any, crop_predictor: Any, crop: tuple[int, int] = CROP):
        needle = base.labels.role("needle")
        if needle is None:
            raise OocytesegError(f"a tip model needs a needle class; the model's classes are "
                                 f"{', '.join(base.labels.classes)}", fix="drop --tip-model")
        if list(crop_predictor.labels.classes) != list(base.labels.classes):
            raise OocytesegError(f"the tip model's classes ({', '.join(crop_predictor.labels.classes)}) differ from "
                                 f"the model's ({', '.join(base.labels.classes)})",
                                 fix="train the tip model on the same label set")
        self.base, self.crop_predictor, self.crop, self.needle = base, crop_predictor, tuple(crop), needle
        self.labels, self.spec, self.size = base.labels, base.spec, base.size
        self.backend = base.backend

    def predict(self, images: Sequence[np.ndarray], batch_size: int = 8) -> list[np.ndarray]:
        """The base predictor's masks, each with its needle tip refined (frames with no tip unchanged)."""
        masks = self.base.predict(images, batch_size)
        out = []
        for image, mask in zip(images, masks):
            f = frame_features(mask, labels=self.labels)
            if np.isfinite(f["tip_x"]) and np.isfinite(f["tip_y"]):
                mask = refine_tip(image, mask, (f["tip_x"], f["tip_y"]), self.crop_predictor, self.needle, self.crop)
            out.append(mask)
        return out
