"""Per-frame geometry of an ICSI injection from label masks: funnel depth, penetration, deformation.

Method (one pass per frame, no image needed):
1. Oolemma profile r(θ): the oocyte (oocyte | sERC) plane is resampled in polar coordinates around its
   centroid (`cv2.warpPolar`, `N_ANGLES` rays, 0.5 px steps) and r(θ) is the OUTERMOST crossing of the
   plane (sub-pixel), so a needle slot inside the ooplasm does not cut the profile short. Angles θ are
   image angles atan2(y - cy, x - cx).
2. Needle footprint: rays whose outermost oocyte crossing is followed (within `FOOTPRINT_GAP` px) by
   needle pixels: there the oolemma is hidden by, or is, the needle (the needle is drawn on top).
3. Reference: the median profile of the frames before contact (a needle tip farther than
   `CONTACT_MARGIN` x radius from the oolemma, or no needle seen yet); frozen at the first contact.
4. Re-centring: each frame's profile is registered to the reference by a translation fitted by least
   squares on the angles away from the needle (trimmed twice), which removes camera jitter and the
   centroid's shift caused by the dent.
5. Dent d(θ) = r_ref(θ) - r(θ) (inward >= 0). Funnel depth: the amplitude of a Gaussian
   A exp(-Δθ²/2σ²) fitted (σ on a grid, A by least squares) to the dent outside the footprint within
   `FIT_HALF_ANGLE` of the needle's direction; the needle covers the funnel's bottom before breakage
   and sits in a needle-shaped slot after it, so only the flanks are read. Depth is radial (along the
   axis within cos(asin(offset/R)), < 2 % for the phantom's offsets).
6. Penetration: the tip's distance past the reference oolemma along the needle axis (negative
   outside). The entry and exit of the axis line through the reference give the injection path.
Pixel constants are for 480x640 frames and scale with `frame_scale`.
"""

from __future__ import annotations

import math
import warnings

import cv2
import numpy as np
import pandas as pd

from oocyteseg.classes import LabelSet
from oocyteseg.morphometry.needle import needle_tip
from oocyteseg.morphometry.oolemma_profile import (COS, FOOTPRINT_GAP, N_ANGLES, SIN, THETA, arc_centre,
                                                   axis_crossings, dent_amplitude, polar_profile, register, wrap_deg)
from oocyteseg.morphometry.scale import frame_scale
from oocyteseg.morphometry.shapes import MaskShapes

CONTACT_MARGIN = 0.08  # fraction of the oocyte radius: a tip farther than this from the oolemma is "before contact"
REF_MAX_FRAMES = 48  # most recent pre-contact profiles kept for the reference median
REG_EXCLUDE_DEG = 45.0  # angles this close to the needle are left out of the first registration fit

PX_COLUMNS = ("funnel_depth_px", "penetration_px", "deformation_px", "needle_offset_px", "serc_path_distance_px")
COLUMNS = ("frame", "time_s", "needle_present", "tip_x", "tip_y", "axis_dx", "axis_dy", *PX_COLUMNS,
           "polar_body_angle_deg", "oolemma_radius_px", "injection_qc")


def _moments(plane: np.ndarray) -> dict:
    """Image moments (m00, m10, m01) of a binary plane, taken over its bounding box (4x faster than the
    whole frame; the same values up to float rounding)."""
    x, y, w, h = cv2.boundingRect(plane.view(np.uint8))
    m = cv2.moments(plane[y:y + h, x:x + w].view(np.uint8), binaryImage=True)
    return {"m00": m["m00"], "m10": m["m10"] + x * m["m00"], "m01": m["m01"] + y * m["m00"]}


class InjectionTracker:
    """Per-frame injection geometry of one video; feed frames in order with `update`, read `table`.

    Args:
        labels: the masks' label set (roles oocyte, serc, needle, polar_body; a missing role leaves its
            columns NaN with the reason `no_<role>_class` in `injection_qc`).
        pixel_size_um: adds `_um` columns when known.
        fps: frames per second of the video (kept for the event pass).
    """

    def __init__(self, labels: LabelSet, pixel_size_um: float | None = None, fps: float = 24.0):
        self.labels, self.pixel_size_um, self.fps = labels, pixel_size_um, float(fps)
        self._idx = {r: labels.role(r) for r in ("oocyte", "serc", "needle", "polar_body")}
        self._stack: list[np.ndarray] = []  # pre-contact profiles
        self._ref: np.ndarray | None = None  # frozen reference profile
        self._needle_seen, self._rows = False, []

    def reference(self) -> np.ndarray | None:
        """The reference profile r_ref(θ) (frozen after contact, else the running median), or None."""
        if self._ref is not None:
            return self._ref
        if not self._stack:
            return None
        with warnings.catch_warnings():  # an angle no frame has seen stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(np.vstack(self._stack), axis=0)

    def update(self, frame_index: int, time_s: float, mask: np.ndarray, shapes=None) -> dict:
        """Measure one frame (`mask`: HxW class ids); returns its row (also kept for `table`).
        `shapes`: the frame's `MaskShapes`, whose class planes the features already built (reused, not redone)."""
        row = self._measure(np.asarray(mask), shapes)
        row = {"frame": int(frame_index), "time_s": float(time_s), **row}
        if self.pixel_size_um is not None:
            for c in PX_COLUMNS:
                row[c.removesuffix("_px") + "_um"] = row[c] * float(self.pixel_size_um)
        self._rows.append(row)
        return row

    def table(self) -> pd.DataFrame:
        """All rows so far, one per frame, in `COLUMNS` order (plus `_um` columns when the pixel size is known)."""
        cols = list(COLUMNS) + ([c.removesuffix("_px") + "_um" for c in PX_COLUMNS]
                                if self.pixel_size_um is not None else [])
        return pd.DataFrame(self._rows, columns=cols)

    def _plane(self, mask: np.ndarray, *roles: str, shapes: MaskShapes | None = None) -> np.ndarray | None:
        """Boolean plane of the union of the roles' classes (None when the first role has no class)."""
        idx = [self._idx[r] for r in roles]
        if idx[0] is None:
            return None
        if shapes is not None:
            return shapes.plane(*idx)
        return np.isin(mask, [i for i in idx if i is not None]) if len(idx) > 1 else mask == idx[0]

    def _measure(self, mask: np.ndarray, shapes: MaskShapes | None = None) -> dict:
        nan = math.nan
        row: dict = {"needle_present": False, "tip_x": nan, "tip_y": nan, "axis_dx": nan, "axis_dy": nan,
                     **{c: nan for c in PX_COLUMNS}, "polar_body_angle_deg": nan, "oolemma_radius_px": nan}
        qc = [f"no_{r}_class" for r, i in self._idx.items() if i is None]
        s = frame_scale(mask.shape)
        oocyte = self._plane(mask, "oocyte", "serc", shapes=shapes)
        serc = self._plane(mask, "serc", shapes=shapes)
        needle = self._plane(mask, "needle", shapes=shapes)
        m = _moments(oocyte) if oocyte is not None else {"m00": 0}
        centre = None if m["m00"] < 50 * s * s else np.array([m["m10"] / m["m00"], m["m01"] / m["m00"]])
        tip = needle_tip(needle, toward=None if centre is None else tuple(centre)) if needle is not None else None
        if tip is not None and tip.ok:
            self._needle_seen = True
            row.update(needle_present=True, tip_x=tip.x, tip_y=tip.y, axis_dx=tip.axis[0], axis_dy=tip.axis[1])
        elif needle is not None:
            qc.append(tip.reasons[0] if tip.reasons else "no_needle")
        if centre is None:
            row["injection_qc"] = ";".join(qc + ["no_oocyte"])
            return row
        radius = math.sqrt(m["m00"] / math.pi)
        r, footprint = polar_profile(oocyte, tuple(centre), radius, needle, FOOTPRINT_GAP * s)
        ok_tip = bool(row["needle_present"])
        tip_xy = np.array([row["tip_x"], row["tip_y"]])
        if self._ref is None:
            near = False
            if ok_tip:
                rel = tip_xy - centre
                b = int(round(math.atan2(rel[1], rel[0]) % (2 * math.pi) / (2 * math.pi) * N_ANGLES)) % N_ANGLES
                near = footprint.any() or not np.isfinite(r[b]) or math.hypot(*rel) - r[b] <= CONTACT_MARGIN * radius
            if near and self._stack:
                self._ref = self.reference()
            elif not near and (ok_tip or not self._needle_seen):
                self._stack = (self._stack + [r])[-REF_MAX_FRAMES:]
        r_ref = self.reference()
        if r_ref is None:
            row["injection_qc"] = ";".join(qc + ["no_reference"])
            return row
        row["oolemma_radius_px"] = float(np.nanmedian(r_ref))
        u = np.array([row["axis_dx"], row["axis_dy"]])
        keep = ~footprint
        if ok_tip:
            dirn = np.degrees(np.arctan2(tip_xy[1] - centre[1], tip_xy[0] - centre[0]) - THETA)
            keep &= np.abs((dirn + 180) % 360 - 180) > REG_EXCLUDE_DEG
        shift = register(r, r_ref, keep)
        c0 = centre + shift
        dent = r_ref - r + shift[0] * COS + shift[1] * SIN
        dev = np.abs(dent[~footprint])
        dev = dev[np.isfinite(dev)]
        row["deformation_px"] = float(dev.mean()) if dev.size else nan  # NaN, no warning, when no ray is defined
        if not ok_tip:
            row["injection_qc"] = ";".join(qc)
            return row
        t_in, t_out = axis_crossings(tip_xy, u, c0, r_ref, 4 * radius)
        row["needle_offset_px"] = float((c0 - tip_xy) @ np.array([-u[1], u[0]]))
        if math.isnan(t_in):
            qc.append("axis_misses_oocyte")
            entry = c0 - u * float(np.nanmedian(r_ref))
        else:
            row["penetration_px"] = -t_in
            entry = tip_xy + t_in * u
        rel = entry - c0
        centre_bin = arc_centre(footprint) if footprint.any() else math.atan2(rel[1], rel[0]) % (2 * math.pi) / (2 * math.pi) * N_ANGLES
        row["funnel_depth_px"] = dent_amplitude(dent, centre_bin, ~footprint)
        self._polar_body(mask, shapes, c0, entry, row, qc)
        self._serc_path(serc, tip_xy, u, t_in, t_out, row, qc)
        row["injection_qc"] = ";".join(dict.fromkeys(qc))
        return row

    def _polar_body(self, mask: np.ndarray, shapes: MaskShapes | None, c0: np.ndarray, entry: np.ndarray, row: dict,
                    qc: list[str]) -> None:
        pb = self._plane(mask, "polar_body", shapes=shapes)
        if pb is None:
            return
        m = _moments(pb)
        if m["m00"] <= 0:
            qc.append("no_polar_body")
            return
        px, py = m["m10"] / m["m00"] - c0[0], m["m01"] / m["m00"] - c0[1]
        ex, ey = entry - c0
        row["polar_body_angle_deg"] = wrap_deg(math.degrees(math.atan2(-py, px) - math.atan2(-ey, ex)))

    def _serc_path(self, serc: np.ndarray | None, tip: np.ndarray, u: np.ndarray, t_in: float, t_out: float,
                   row: dict, qc: list[str]) -> None:
        if serc is None or math.isnan(t_in):
            return
        x0, y0, w, h = cv2.boundingRect(serc.view(np.uint8))
        if w == 0:
            qc.append("no_serc")
            return
        ys, xs = np.nonzero(serc[y0:y0 + h, x0:x0 + w])
        a, ab = tip + t_in * u, (t_out - t_in) * u
        p = np.column_stack([xs + x0, ys + y0]).astype(float) - a
        t = np.clip(p @ ab / max(float(ab @ ab), 1e-9), 0, 1)
        row["serc_path_distance_px"] = float(np.sqrt(((p - t[:, None] * ab) ** 2).sum(axis=1).min()))
