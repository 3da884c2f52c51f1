"""Which features a mask gets, decided by the roles of its label set (never by its name or indices).

- any of the ICSI roles (oocyte, serc, needle): `frame_features` (Shimotsu f1-f4 and extras);
- the inclusion role: `inclusion_features`;
- any anatomy role (zona, pvs, ooplasm, polar_body): `anatomy_features` (areas, zona thickness, polar body);
- classes without a role (a lab's own label set, e.g. background / embryo): area and component count
  per class, `<class>_area` and `<class>_count` (`_um2` with a pixel size).
"""

from __future__ import annotations

import numpy as np

from oocyteseg.classes import LabelSet, normalise_label
from oocyteseg.morphometry.anatomy import ANATOMY_ROLES, anatomy_features
from oocyteseg.morphometry.features import frame_features, inclusion_features
from oocyteseg.morphometry.shapes import MaskShapes, components

ICSI_ROLES = ("oocyte", "serc", "needle")
SHIMOTSU = ("f1", "f2", "f3", "f4")


def headline_columns(columns, limit: int = 4) -> list[str]:
    """The columns a report leads with: f1-f4 when the table has them, else the per-class areas."""
    columns = list(columns)
    if any(c in columns for c in SHIMOTSU):
        return [c for c in SHIMOTSU if c in columns]
    return [c for c in columns if c.endswith("_area") or c.endswith("_thickness_mean")][:limit]


def class_features(mask: np.ndarray, labels: LabelSet, indices: list[int],
                   pixel_size_um: float | None = None) -> dict:
    """Area (px) and number of 8-connected components of each class in `indices`."""
    out: dict = {}
    for i in indices:
        key = normalise_label(labels.classes[i])
        plane = mask == i
        out[f"{key}_area"] = float(np.count_nonzero(plane))
        out[f"{key}_count"] = components(plane).count if out[f"{key}_area"] else 0
        if pixel_size_um is not None:
            out[f"{key}_area_um2"] = out[f"{key}_area"] * float(pixel_size_um) ** 2
    return out


def mask_features(mask: np.ndarray, labels: LabelSet, pixel_size_um: float | None = None,
                  shapes: MaskShapes | None = None) -> dict:
    """Every feature the label set's roles allow, one dict with one `reason` column (joined by ';').

    `shapes`: the frame's `MaskShapes` when the caller shares it (e.g. with the overlay)."""
    parts: list[dict] = []
    if any(labels.role(r) is not None for r in ICSI_ROLES):
        parts.append(frame_features(mask, pixel_size_um, labels, shapes))
    if labels.role("inclusion") is not None:
        parts.append(inclusion_features(mask, pixel_size_um, labels))
    if any(labels.role(r) is not None for r in ANATOMY_ROLES):
        parts.append(anatomy_features(mask, labels, pixel_size_um))
    unroled = [i for i in range(1, labels.num_classes) if labels.role_of(i) is None]
    if unroled:
        parts.append(class_features(mask, labels, unroled, pixel_size_um))
    out: dict = {}
    reasons: list[str] = []
    for part in parts:
        reasons += [r for r in str(part.pop("reason", "")).split(";") if r]
        out.update(part)
    out["reason"] = ";".join(dict.fromkeys(reasons))
    return out

