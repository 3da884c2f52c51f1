"""Features of an oocyte-anatomy mask (zona, PVS, ooplasm, polar body), found by role, never by index.

Every value is a float (NaN when it cannot be measured) and `reason` lists, joined by ';', why values
are missing or flagged. Coordinates: x = column, y = row (down), pixel centres at integers. See
docs/features.md ("Anatomy features") for every column.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from oocyteseg.classes import LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.morphometry.shapes import components, equivalent_diameter, largest_region

ANATOMY_ROLES = ("zona", "pvs", "ooplasm", "polar_body")
THICKNESS_BINS = 360  # zona thickness is averaged per 1° of angle around the oocyte centre

_LENGTHS = ("whole_oocyte_eq_diameter", "ooplasm_eq_diameter", "zona_thickness_mean", "zona_thickness_sd")
_AREAS = ("zona_area", "pvs_area", "ooplasm_area", "polar_body_area", "whole_oocyte_area")


def anatomy_features(mask: np.ndarray, labels: LabelSet, pixel_size_um: float | None = None) -> dict:
    """Areas, whole-oocyte size, zona thickness and polar body of one anatomy index mask.

    Args:
        mask: (H, W) index mask in the classes of `labels`.
        labels: its label set; classes are found by role (zona, pvs, ooplasm, polar_body).
        pixel_size_um: adds `*_um` / `*_um2` columns.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise OocytesegError(f"mask must be a 2-D label array, got shape {mask.shape}",
                             fix="pass an index mask (H, W) of class ids, e.g. from io.images.read_mask")
    nan = math.nan
    reasons: list[str] = []
    if mask.size and int(mask.max()) >= labels.num_classes:
        reasons.append("unknown_labels")
    regions: dict[str, np.ndarray | None] = {}
    out: dict = {}
    for role in ANATOMY_ROLES:
        index = labels.role(role)
        if index is None:
            regions[role] = None
            reasons.append(f"no_{role}_class")
            out[f"{role}_area"] = nan
            continue
        regions[role] = mask == index
        out[f"{role}_area"] = float(regions[role].sum())
        if not out[f"{role}_area"] and role != "polar_body":
            reasons.append(f"no_{role}")
    ooplasm = regions["ooplasm"]
    out["ooplasm_eq_diameter"] = equivalent_diameter(out["ooplasm_area"]) if ooplasm is not None else nan
    _whole_and_zona(mask.shape, regions, out, reasons)
    _polar_body(regions, out, reasons)
    if pixel_size_um is not None:
        px = float(pixel_size_um)
        for key in _LENGTHS:
            out[f"{key}_um"] = out[key] * px
        for key in _AREAS:
            out[f"{key}_um2"] = out[key] * px * px
    out["reason"] = ";".join(dict.fromkeys(reasons))
    return out


def _whole_and_zona(shape: tuple[int, int], regions: dict, out: dict, reasons: list[str]) -> None:
    """Whole oocyte (the zona's outer outline, filled) and zona thickness over angles."""
    nan = math.nan
    out.update(whole_oocyte_area=nan, whole_oocyte_eq_diameter=nan, zona_thickness_mean=nan,
               zona_thickness_sd=nan, zona_thickness_angles=0)
    zona = regions["zona"]
    if zona is None or not zona.any():
        return
    union = np.logical_or.reduce([r for r in regions.values() if r is not None])
    crop, x0, y0, _, _ = largest_region(union)
    whole = np.zeros(shape, dtype=bool)
    whole[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop > 0
    area = float(whole.sum())
    out["whole_oocyte_area"], out["whole_oocyte_eq_diameter"] = area, equivalent_diameter(area)
    if whole[0].any() or whole[-1].any() or whole[:, 0].any() or whole[:, -1].any():
        reasons.append("oocyte_at_border")
    inner = whole & ~zona
    if not inner.any():
        reasons.append("zona_not_closed")
        return
    # thickness at each pixel of the zona's outer edge: its distance to the nearest pixel inside the
    # zona's inner edge, i.e. the shortest (perpendicular) crossing of the zona at that point
    edge = zona & whole & ~ndimage.binary_erosion(whole, border_value=1)
    edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = False  # the image border is no zona edge
    ys, xs = np.nonzero(edge)
    if not len(xs):
        reasons.append("zona_not_closed")
        return
    thickness = ndimage.distance_transform_edt(~inner)[ys, xs]
    cy, cx = ndimage.center_of_mass(whole)
    bins = _angle_bins(xs - cx, ys - cy)
    skip = np.zeros(THICKNESS_BINS, dtype=bool)
    pb = regions["polar_body"]
    if pb is not None and pb.any():  # measured away from the polar body, as a clinician would
        pys, pxs = np.nonzero(pb)
        hit = np.bincount(_angle_bins(pxs - cx, pys - cy), minlength=THICKNESS_BINS) > 0
        skip = hit | np.roll(hit, 1) | np.roll(hit, -1)
    n = np.bincount(bins, minlength=THICKNESS_BINS)
    total = np.bincount(bins, weights=thickness, minlength=THICKNESS_BINS)
    keep = (n > 0) & ~skip
    if not keep.any():
        reasons.append("zona_not_closed")
        return
    per_angle = total[keep] / n[keep]
    out.update(zona_thickness_mean=float(per_angle.mean()), zona_thickness_sd=float(per_angle.std()),
               zona_thickness_angles=int(keep.sum()))


def _angle_bins(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """1° bin (0..359) of the direction (dx, dy), counter-clockwise on screen from +x."""
    deg = np.degrees(np.arctan2(-dy, dx)) % 360.0
    return np.minimum((deg * THICKNESS_BINS / 360.0).astype(np.int64), THICKNESS_BINS - 1)


def _polar_body(regions: dict, out: dict, reasons: list[str]) -> None:
    """Presence, count and clock angle (from the ooplasm centre) of the polar body."""
    nan = math.nan
    out.update(polar_body_present=nan, polar_body_count=nan, polar_body_angle_deg=nan)
    pb, ooplasm = regions["polar_body"], regions["ooplasm"]
    if pb is None:
        return
    comps = components(pb)
    out["polar_body_present"] = float(comps.count > 0)
    out["polar_body_count"] = comps.count
    if comps.count == 0:
        reasons.append("no_polar_body")
        return
    if comps.count > 1:
        reasons.append("multiple_polar_body")
    if ooplasm is None or not ooplasm.any():
        return
    oy, ox = ndimage.center_of_mass(ooplasm)
    px, py = comps.centroids[0]
    # clock convention: 0° = 12 o'clock (up), clockwise on screen (90° = 3 o'clock, right)
    out["polar_body_angle_deg"] = float(np.degrees(np.arctan2(px - ox, -(py - oy))) % 360.0)
