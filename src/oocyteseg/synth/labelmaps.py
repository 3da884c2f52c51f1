"""Random label maps for the mask->image GAN: inclusion spots (Andreini et al.) and ICSI scenes.

Each sampler takes a numpy Generator and a pydantic config and returns a `LabelMap`: an index mask
and one record per drawn object (its exact parameters), so the maps can be checked and traced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import cv2
import numpy as np
from pydantic import Field, PositiveInt
from scipy import ndimage

from oocyteseg.errors import OocytesegError
from oocyteseg.synth._base import StrictModel
from oocyteseg.synth.shapes import disk_footprint, ellipse_mask, tapered_band_mask

Range = tuple[float, float]
IntRange = tuple[int, int]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class InclusionSamplerConfig(StrictModel):
    """Andreini et al.: 1 to 5 circular spots of diameter 2 to 7 px at random in a 256x256 map."""

    height: PositiveInt = 256
    width: PositiveInt = 256
    spots: tuple[NonNegativeInt, NonNegativeInt] = (1, 5)
    diameter_px: tuple[PositiveInt, PositiveInt] = (2, 7)
    gap_px: NonNegativeInt = 1  # background pixels kept between spots, so each spot is its own 8-connected component


class IcsiSamplerConfig(StrictModel):
    """ICSI scene: oocyte ellipse, optional sERC inside it, needle entering from an image side."""

    height: PositiveInt = 480
    width: PositiveInt = 640
    oocyte_center_frac: tuple[Range, Range] = ((0.4, 0.6), (0.4, 0.6))  # (y, x) as fractions of H, W
    oocyte_semi_major_px: Range = (130.0, 180.0)
    oocyte_eccentricity: Range = (0.0, 0.45)
    serc_probability: Probability = 0.7
    serc_semi_major_frac: Range = (0.08, 0.3)  # of the oocyte's semi-major axis
    serc_eccentricity: Range = (0.0, 0.6)
    serc_margin_px: NonNegativeInt = 4  # sERC kept this far inside the oocyte boundary
    needle_probability: Probability = 1.0
    needle_sides: tuple[Literal["left", "right"], ...] = Field(default=("right",), min_length=1)
    needle_tip_depth_frac: Range = (-0.3, 1.3)  # tip x: centre + side * depth * horizontal half-extent
    needle_tip_dy_frac: Range = (-0.25, 0.25)  # tip y: centre + dy * vertical half-extent
    needle_angle_deg: Range = (-12.0, 12.0)  # needle axis from horizontal
    needle_tip_width_px: Range = (2.0, 5.0)
    needle_base_width_px: Range = (14.0, 24.0)
    needle_taper_px: Range = (60.0, 140.0)


@dataclass
class LabelMap:
    """A sampled index mask and the exact parameters of every object drawn in it."""

    mask: np.ndarray
    objects: list[dict[str, Any]] = field(default_factory=list)


def map_rng(seed: int, index: int) -> np.random.Generator:
    """Generator for map `index` of a run seeded with `seed` (map i is the same whatever n is)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def sample_inclusion_map(rng: np.random.Generator, config: InclusionSamplerConfig | None = None,
                         within: np.ndarray | None = None) -> LabelMap:
    """Place 1..5 non-touching disks (class 1) of integer diameter 2..7 px uniformly at random.

    Args:
        rng: numpy Generator (all randomness comes from it).
        config: sampler settings; defaults reproduce the paper.
        within: optional mask of the allowed region (nonzero = allowed, e.g. the ooplasm); spots lie
            entirely inside it. Its shape must equal (config.height, config.width).
    """
    cfg = config or InclusionSamplerConfig()
    shape = (cfg.height, cfg.width)
    allowed = np.ones(shape, bool) if within is None else np.asarray(within) != 0
    if allowed.shape != shape:
        raise OocytesegError(f"allowed-region mask is {allowed.shape[0]}x{allowed.shape[1]}, the map is "
                             f"{shape[0]}x{shape[1]}", fix="resize the mask or set the sampler's height/width")
    mask = np.zeros(shape, np.uint8)
    objects: list[dict[str, Any]] = []
    n_spots = int(rng.integers(cfg.spots[0], cfg.spots[1] + 1))
    diameters = rng.integers(cfg.diameter_px[0], cfg.diameter_px[1] + 1, size=n_spots)
    keep_out = np.ones((2 * cfg.gap_px + 1,) * 2, np.uint8)
    for d in (int(v) for v in diameters):
        fp = disk_footprint(d)
        usable = (allowed & (cv2.dilate(mask, keep_out) == 0)).astype(np.uint8)
        # free[t, l] == 1 iff the footprint placed with its top-left corner at (t, l) covers usable pixels only
        free = cv2.erode(usable, fp.astype(np.uint8), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT, borderValue=0)
        candidates = np.flatnonzero(free)
        if candidates.size == 0:
            raise OocytesegError(f"no room left for a spot of diameter {d} px in the allowed region "
                                 f"({int(allowed.sum())} px allowed, {len(objects)} spots placed)",
                                 fix="use a larger allowed region or a smaller spots/diameter range")
        top, left = np.unravel_index(int(candidates[rng.integers(candidates.size)]), free.shape)
        mask[top:top + d, left:left + d][fp] = 1
        objects.append({"class": "inclusion", "cy": top + (d - 1) / 2.0, "cx": left + (d - 1) / 2.0,
                        "diameter": d, "area": int(fp.sum())})
    return LabelMap(mask, objects)


def _uniform(rng: np.random.Generator, bounds: Range) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _half_extents(a: float, b: float, angle_deg: float) -> tuple[float, float]:
    """(vertical, horizontal) half-extent of a rotated ellipse."""
    t = math.radians(angle_deg)
    return (math.sqrt((a * math.sin(t)) ** 2 + (b * math.cos(t)) ** 2),
            math.sqrt((a * math.cos(t)) ** 2 + (b * math.sin(t)) ** 2))


def _ellipse_params(rng: np.random.Generator, semi_major: float, eccentricity: Range) -> tuple[float, float, float]:
    e = _uniform(rng, eccentricity)
    return semi_major, semi_major * math.sqrt(1.0 - min(e, 0.99) ** 2), _uniform(rng, (0.0, 180.0))


def sample_icsi_map(rng: np.random.Generator, config: IcsiSamplerConfig | None = None) -> LabelMap:
    """Draw an ICSI scene: 1 oocyte ellipse, 2 sERC ellipse inside it (sometimes), 3 needle on top."""
    cfg = config or IcsiSamplerConfig()
    shape = (cfg.height, cfg.width)
    mask = np.zeros(shape, np.uint8)
    objects: list[dict[str, Any]] = []

    a, b, angle = _ellipse_params(rng, _uniform(rng, cfg.oocyte_semi_major_px), cfg.oocyte_eccentricity)
    ext_y, ext_x = _half_extents(a, b, angle)
    cy = float(np.clip(_uniform(rng, cfg.oocyte_center_frac[0]) * cfg.height, ext_y + 1, cfg.height - 2 - ext_y))
    cx = float(np.clip(_uniform(rng, cfg.oocyte_center_frac[1]) * cfg.width, ext_x + 1, cfg.width - 2 - ext_x))
    oocyte = ellipse_mask(shape, (cy, cx), (a, b), angle)
    mask[oocyte] = 1
    objects.append({"class": "oocyte", "cy": cy, "cx": cx, "a": a, "b": b, "angle_deg": angle})

    if rng.random() < cfg.serc_probability:
        inner = ndimage.binary_erosion(oocyte, iterations=cfg.serc_margin_px)
        serc = _place_inside(rng, inner, a * _uniform(rng, cfg.serc_semi_major_frac), cfg.serc_eccentricity)
        if serc is not None:
            mask[serc[0]] = 2
            objects.append({"class": "sERC", **serc[1]})

    if rng.random() < cfg.needle_probability:
        side = cfg.needle_sides[int(rng.integers(len(cfg.needle_sides)))]
        sign = 1.0 if side == "right" else -1.0
        tip_x = float(np.clip(cx + sign * _uniform(rng, cfg.needle_tip_depth_frac) * ext_x, 2, cfg.width - 3))
        tip_y = float(np.clip(cy + _uniform(rng, cfg.needle_tip_dy_frac) * ext_y, 2, cfg.height - 3))
        theta = math.radians(_uniform(rng, cfg.needle_angle_deg))
        direction = (-math.sin(theta), sign * math.cos(theta))  # from the tip towards the entering side
        tip_w, base_w = _uniform(rng, cfg.needle_tip_width_px), _uniform(rng, cfg.needle_base_width_px)
        taper = _uniform(rng, cfg.needle_taper_px)
        mask[tapered_band_mask(shape, (tip_y, tip_x), direction, tip_w, max(base_w, tip_w), taper)] = 3
        objects.append({"class": "needle", "tip_y": tip_y, "tip_x": tip_x, "side": side,
                        "angle_deg": math.degrees(theta), "tip_width": tip_w, "base_width": base_w, "taper": taper})
    return LabelMap(mask, objects)


def _place_inside(rng: np.random.Generator, region: np.ndarray, semi_major: float,
                  eccentricity: Range) -> tuple[np.ndarray, dict[str, Any]] | None:
    """A random ellipse lying entirely in `region`, shrinking it when it does not fit; None if no room."""
    ys, xs = np.nonzero(region)
    if ys.size == 0:
        return None
    for attempt in range(60):
        scale = 0.5 ** (attempt // 20)  # every 20 failed tries, halve the size
        a, b, angle = _ellipse_params(rng, max(semi_major * scale, 1.0), eccentricity)
        k = int(rng.integers(ys.size))
        ell = ellipse_mask(region.shape, (float(ys[k]), float(xs[k])), (a, b), angle)
        if ell.any() and not (ell & ~region).any():
            return ell, {"cy": float(ys[k]), "cx": float(xs[k]), "a": a, "b": b, "angle_deg": angle}
    return None


def sample_label_map(kind: Literal["inclusions", "icsi"], rng: np.random.Generator,
                     inclusions: InclusionSamplerConfig | None = None, icsi: IcsiSamplerConfig | None = None,
                     within: np.ndarray | None = None) -> LabelMap:
    """Dispatch to the sampler for `kind` ('inclusions' or 'icsi'; `within` applies to inclusions only)."""
    if kind == "inclusions":
        return sample_inclusion_map(rng, inclusions, within)
    if kind == "icsi":
        if within is not None:
            raise OocytesegError("an allowed-region mask applies to inclusion maps only",
                                 fix="drop --within or use --kind inclusions")
        return sample_icsi_map(rng, icsi)
    raise KeyError(f"unknown label-map kind {kind!r}; valid: inclusions, icsi")
