"""Per-frame features of an ICSI label mask (Shimotsu f1-f4 and more) and of an inclusion mask.

Classes are found by role (`LabelSet.role`: oocyte, serc, needle, inclusion), never by index, so any
classes file that names its classes (or maps their roles) works. A role the label set lacks leaves its
features NaN with the reason `no_<role>_class`. Every value is a float (NaN when it cannot be measured)
and the `reason` field lists, joined by ';', why values are missing or flagged. Coordinates: x =
column, y = row, pixel centres at integers.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from oocyteseg.classes import ICSI, INCLUSIONS, LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.morphometry.needle import needle_tip
from oocyteseg.morphometry.scale import scaled_area
from oocyteseg.morphometry.shapes import (MaskShapes, circularity, components, contour_length_area,
                                          equivalent_diameter, fill_holes, largest_region,
                                          moments_ellipse)

MIN_SERC_PX_FOR_F1 = 20  # at 480x640 (scaled with the frame area); below ~ a disk of radius 2.5 px the perimeter is mostly digitisation
_DEPTH_STEP = 0.5  # px, step of the walk along the needle axis for the penetration depth

# Length-like columns converted to micrometres (area-like ones get the square).
_LENGTHS = ("oocyte_eq_diameter", "oocyte_major_axis", "oocyte_minor_axis", "serc_eq_diameter",
            "serc_perimeter", "tip_to_oolemma", "penetration_depth", "needle_width")
_AREAS = ("oocyte_area", "serc_area", "serc_area_total")


def _check(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise OocytesegError(f"mask must be a 2-D label array, got shape {mask.shape}",
                             fix="pass an index mask (H, W) of class ids, e.g. from io.images.read_mask")
    return mask


def _plane(mask: np.ndarray, index: int | None) -> np.ndarray:
    """Boolean plane of one class (all False when the label set has no such class)."""
    return mask == index if index is not None else np.zeros(mask.shape, dtype=bool)


def _missing_roles(labels: LabelSet, roles: tuple[str, ...]) -> list[str]:
    return [f"no_{r}_class" for r in roles if labels.role(r) is None]


def oocyte_region(mask: np.ndarray, labels: LabelSet = ICSI) -> tuple[np.ndarray | None, int]:
    """The region a person would outline as the oocyte, and the number of oocyte components.

    Rule: the largest 8-connected component of oocyte|sERC (by outline area), holes filled; plus the needle
    pixels inside the convex hull of that component (where the needle lies over the oocyte); holes
    filled again (the needle lumen). Returns (uint8 region or None, component count).
    """
    crop, x, y, count = _oocyte_crop(MaskShapes(mask), labels)
    if crop is None:
        return None, count
    region = np.zeros(mask.shape, dtype=np.uint8)
    region[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
    return region, count


def _oocyte_crop(shapes: MaskShapes, labels: LabelSet) -> tuple[np.ndarray | None, int, int, int]:
    """`oocyte_region` as a crop of its bounding box: (crop, x0, y0, component count)."""
    oocyte, serc, needle = (labels.role(r) for r in ("oocyte", "serc", "needle"))
    if oocyte is None:
        return None, 0, 0, 0
    mask = shapes.mask
    crop, x, y, count, outline = largest_region(shapes.plane(oocyte, serc), shapes.outlines(oocyte, serc))
    if crop is None:
        return None, 0, 0, 0
    h, w = crop.shape
    hull = np.zeros_like(crop)
    cv2.fillConvexPoly(hull, cv2.convexHull(outline - [x, y]), 1)
    return fill_holes(crop | (hull & _plane(mask[y:y + h, x:x + w], needle))), x, y, count


def frame_features(mask: np.ndarray, pixel_size_um: float | None = None, labels: LabelSet = ICSI,
                   shapes: MaskShapes | None = None) -> dict:
    """Shimotsu features f1-f4 plus extras for one ICSI label mask, classes found by role.

    f1 = 4*pi*S_s/L_s^2 of the largest sERC, f2 = S_s/S_o, f3 = C_ox - T_nx, f4 = C_oy - T_ny (px).
    `shapes`: the frame's shared planes and outlines (`MaskShapes` of `mask`), made here when not given.
    Never raises on a valid 2-D array; see docs/features.md for every column and reason.
    """
    mask = _check(mask)
    shapes = shapes if shapes is not None else MaskShapes(mask)
    reasons: list[str] = _missing_roles(labels, ("oocyte", "serc", "needle"))
    nan = math.nan
    out: dict = {"f1": nan, "f2": nan, "f3": nan, "f4": nan, "f1_raw": nan}
    if mask.size and int(mask.max()) >= labels.num_classes:
        reasons.append("unknown_labels")

    region, ox, oy, n_oocyte = _oocyte_crop(shapes, labels)
    out["oocyte_components"] = n_oocyte
    if region is None:
        reasons.append("no_oocyte")
        out.update(oocyte_area=nan, oocyte_cx=nan, oocyte_cy=nan, oocyte_eq_diameter=nan,
                   oocyte_major_axis=nan, oocyte_minor_axis=nan, oocyte_orientation_deg=nan)
        c_o = (nan, nan)
    else:
        if n_oocyte > 1:
            reasons.append("multiple_oocyte")
        area = float(region.sum())
        cx, cy, major, minor, angle = moments_ellipse(region)
        cx, cy = cx + ox, cy + oy
        out.update(oocyte_area=area, oocyte_cx=cx, oocyte_cy=cy, oocyte_eq_diameter=equivalent_diameter(area),
                   oocyte_major_axis=major, oocyte_minor_axis=minor, oocyte_orientation_deg=angle)
        c_o = (cx, cy)

    _serc_features(shapes.plane(labels.role("serc")), out, reasons)
    if math.isfinite(out["serc_area"]) and region is not None:
        out["f2"] = out["serc_area"] / out["oocyte_area"]

    needle = labels.role("needle")
    tip = needle_tip(shapes.plane(needle), toward=None if region is None else c_o, outlines=shapes.outlines(needle))
    reasons.extend(tip.reasons)
    out.update(needle_components=tip.components, needle_width=tip.width, tip_x=tip.x, tip_y=tip.y,
               needle_axis_x=tip.axis[0], needle_axis_y=tip.axis[1])
    out["tip_to_oolemma"] = out["penetration_depth"] = nan
    if tip.ok and region is not None:
        out["f3"] = c_o[0] - tip.x
        out["f4"] = c_o[1] - tip.y
        out["tip_to_oolemma"], out["penetration_depth"] = _tip_vs_oolemma(region, tip.x - ox, tip.y - oy,
                                                                            tip.axis)

    if pixel_size_um is not None:
        _add_um(out, float(pixel_size_um))
    out["reason"] = ";".join(dict.fromkeys(reasons))
    return out


def _serc_features(serc: np.ndarray, out: dict, reasons: list[str]) -> None:
    comps = components(serc)
    areas = comps.areas.astype(float)
    out["serc_count"] = comps.count
    out["serc_area_total"] = float(areas.sum())
    out["serc_areas"] = ";".join(str(int(a)) for a in areas)
    out["serc_area"] = out["serc_eq_diameter"] = out["serc_perimeter"] = math.nan
    if comps.count == 0:
        reasons.append("no_serc")
        return
    if comps.count > 1:
        reasons.append("multiple_serc")
    out["serc_area"] = areas[0]
    out["serc_eq_diameter"] = equivalent_diameter(areas[0])
    crop, _, _ = comps.crop(0)
    length, enclosed = contour_length_area(crop)
    out["serc_perimeter"] = length
    if areas[0] < scaled_area(MIN_SERC_PX_FOR_F1, serc.shape):
        reasons.append("serc_too_small")
        return
    raw = circularity(length, enclosed)
    out["f1_raw"] = raw
    if raw > 1.0:
        reasons.append("circularity_clamped")
    out["f1"] = min(raw, 1.0)


def _tip_vs_oolemma(region: np.ndarray, x: float, y: float, axis: tuple[float, float]) -> tuple[float, float]:
    """Signed distance from the tip to the oocyte outline (+ inside) and depth along the needle axis.

    `region` may be a crop; x, y are then relative to the crop (outside the crop is outside the oocyte).
    """
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=len)
    dist = float(cv2.pointPolygonTest(contour, (float(x), float(y)), True))
    h, w = region.shape
    steps = np.arange(0.0, float(h + w), _DEPTH_STEP)
    px = np.rint(x - steps * axis[0]).astype(np.int64)
    py = np.rint(y - steps * axis[1]).astype(np.int64)
    valid = (px >= 0) & (px < w) & (py >= 0) & (py < h)
    inside = np.zeros(len(steps), dtype=bool)
    inside[valid] = region[py[valid], px[valid]] > 0
    if not inside[0]:
        return dist, 0.0
    first_out = int(np.argmin(inside)) if not inside.all() else len(steps)
    return dist, float(steps[first_out - 1] + _DEPTH_STEP / 2) if first_out > 0 else 0.0


def _add_um(out: dict, px_um: float) -> None:
    for key in _LENGTHS:
        out[f"{key}_um"] = out[key] * px_um
    for key in _AREAS:
        out[f"{key}_um2"] = out[key] * px_um * px_um
    out["f3_um"] = out["f3"] * px_um
    out["f4_um"] = out["f4"] * px_um


def inclusion_features(mask: np.ndarray, pixel_size_um: float | None = None, labels: LabelSet = INCLUSIONS) -> dict:
    """Count and sizes of inclusions in a close-up mask (the class with the `inclusion` role)."""
    mask = _check(mask)
    comps = components(_plane(mask, labels.role("inclusion")))
    areas = comps.areas.astype(float)
    reasons = _missing_roles(labels, ("inclusion",)) + ([] if comps.count else ["no_inclusion"])
    if mask.size and int(mask.max()) >= labels.num_classes:
        reasons.append("unknown_labels")
    out: dict = {"inclusion_count": comps.count, "inclusion_area_total": float(areas.sum()),
                 "inclusion_area_fraction": float(areas.sum()) / mask.size if mask.size else math.nan,
                 "inclusion_areas": ";".join(str(int(a)) for a in areas),
                 "inclusion_area_largest": areas[0] if comps.count else math.nan,
                 "inclusion_area_mean": float(areas.mean()) if comps.count else math.nan,
                 "inclusion_eq_diameter_largest": equivalent_diameter(areas[0]) if comps.count else math.nan,
                 "inclusion_circularity_largest": math.nan}
    if comps.count and areas[0] >= scaled_area(MIN_SERC_PX_FOR_F1, mask.shape):
        crop, _, _ = comps.crop(0)
        raw = circularity(*contour_length_area(crop))
        if raw > 1.0:
            reasons.append("circularity_clamped")
        out["inclusion_circularity_largest"] = min(raw, 1.0)
    if pixel_size_um is not None:
        px = float(pixel_size_um)
        for key in ("inclusion_area_total", "inclusion_area_largest", "inclusion_area_mean"):
            out[f"{key}_um2"] = out[key] * px * px
        out["inclusion_eq_diameter_largest_um"] = out["inclusion_eq_diameter_largest"] * px
    out["reason"] = ";".join(reasons)
    return out
