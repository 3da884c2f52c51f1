"""256x256 oocyte close-ups with cytoplasmic inclusions (Andreini et al.): image + binary mask.

A whole oocyte (no needle, no pipette) is rendered at 256x256 by the ICSI renderer, then 0-5 dark,
round-ish inclusions of diameter 2-7 px are added inside the ooplasm. The mask (0 background,
1 inclusion) is the exact disk rasterisation: a pixel belongs to an inclusion when its centre lies
within the inclusion's radius.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from oocyteseg.phantom.params import sample_case
from oocyteseg.phantom.render import OOCYTE, SERC, render_frame


@dataclass(frozen=True)
class Inclusion:
    x: float
    y: float
    diameter: float


def sample_inclusions(rng: np.random.Generator, ooplasm: np.ndarray, count: int,
                      d_min: float = 2.0, d_max: float = 7.0, margin: float = 3.0) -> list[Inclusion]:
    """Place `count` non-overlapping inclusions with centres well inside the ooplasm mask."""
    inner = cv2.erode(ooplasm.astype(np.uint8), np.ones((11, 11), np.uint8)) > 0
    ys, xs = np.nonzero(inner)
    spots: list[Inclusion] = []
    tries = 0
    while len(spots) < count and tries < 1000 and len(xs):
        tries += 1
        i = rng.integers(len(xs))
        d = float(rng.uniform(d_min, d_max))
        x, y = float(xs[i] + rng.uniform(-0.5, 0.5)), float(ys[i] + rng.uniform(-0.5, 0.5))
        if all(np.hypot(x - s.x, y - s.y) > (d + s.diameter) / 2 + margin for s in spots):
            spots.append(Inclusion(x, y, d))
    return spots


def disk_mask(shape: tuple[int, int], spots: list[Inclusion]) -> np.ndarray:
    """Exact rasterisation: pixel centres within diameter/2 of a spot centre."""
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    ys, xs = np.mgrid[0:h, 0:w]
    for s in spots:
        r = s.diameter / 2
        x0, x1 = max(0, int(s.x - r - 1)), min(w, int(s.x + r + 2))
        y0, y1 = max(0, int(s.y - r - 1)), min(h, int(s.y + r + 2))
        sub = (xs[y0:y1, x0:x1] - s.x) ** 2 + (ys[y0:y1, x0:x1] - s.y) ** 2 <= r * r
        mask[y0:y1, x0:x1][sub] = 1
    return mask


def render_closeup(seed: int, size: int = 256, max_inclusions: int = 5,
                   count: int | None = None) -> tuple[np.ndarray, np.ndarray, list[Inclusion]]:
    """One close-up: (RGB uint8, mask uint8 with 1 = inclusion, list of inclusions)."""
    rng = np.random.default_rng(seed)
    case = sample_case(seed, f"closeup{seed}", height=size, width=size, serc_probability=0.0,
                       with_needle=False, with_pipette=False)
    # centre the oocyte in the close-up and let it fill most of the field
    oo = case.oocyte
    scale = size * 0.36 / oo.radius
    case = type(case)(**{**case.__dict__, "oocyte": type(oo)(**{
        **oo.__dict__, "cx": size / 2 + rng.uniform(-6, 6), "cy": size / 2 + rng.uniform(-6, 6),
        "radius": oo.radius * scale, "pvs": oo.pvs * scale, "zona": oo.zona * scale,
        "grain_sigma": max(0.7, oo.grain_sigma * scale * 0.9)})})
    image, labels = render_frame(case, 0.0, frame_index=0, noise=False)
    ooplasm = (labels == OOCYTE) | (labels == SERC)
    n = int(rng.integers(0, max_inclusions + 1)) if count is None else count
    spots = sample_inclusions(rng, ooplasm, n)
    mask = disk_mask(labels.shape, spots)
    # inclusions: dense dark bodies with a thin bright rim (relief), drawn from the same disks
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.6)
    rim = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.6) - soft
    depth = rng.uniform(0.45, 0.65)
    img = image.astype(np.float32)
    img = img * (1 - depth * soft[..., None]) + 18.0 * np.clip(rim, 0, None)[..., None]
    img += rng.normal(0, case.optics.noise, img.shape[:2]).astype(np.float32)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8), mask, spots
