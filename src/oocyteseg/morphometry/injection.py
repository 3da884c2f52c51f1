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

import cv2
import numpy as np
import pandas as pd

from oocyteseg.classes import LabelSet
from oocyteseg.morphometry.needle import needle_tip
from oocyteseg.morphometry.scale import frame_scale

N_ANGLES = 360
RADIAL_STEP = 0.5  # px per polar sample
CONTACT_MARGIN = 0.08  # fraction of the oocyte radius: a tip farther than this from the oolemma is "before contact"
REF_MAX_FRAMES = 48  # most recent pre-contact profiles kept for the reference median
FOOTPRINT_GAP = 3.0  # px beyond the oolemma crossing where needle pixels make a ray part of the footprint
FOOTPRINT_PAD = 2  # angle bins added on each side of the footprint
REG_EXCLUDE_DEG = 45.0  # angles this close to the needle are left out of the first registration fit
REG_TRIM_PX = 1.0  # residual floor (px) for trimming the registration fit
FIT_HALF_ANGLE = 90.0  # degrees either side of the needle read for the funnel fit
_SIGMAS = np.geomspace(0.02, 0.8, 28)  # Gaussian widths tried for the dent (radians)

PX_COLUMNS = ("funnel_depth_px", "penetration_px", "deformation_px", "needle_offset_px", "serc_path_distance_px")
COLUMNS = ("frame", "time_s", "needle_present", "tip_x", "tip_y", "axis_dx", "axis_dy", *PX_COLUMNS,
           "polar_body_angle_deg", "oolemma_radius_px", "injection_qc")

_THETA = np.arange(N_ANGLES) * (2 * math.pi / N_ANGLES)
_COS, _SIN = np.cos(_THETA), np.sin(_THETA)
_COS32, _SIN32 = _COS.astype(np.float32), _SIN.astype(np.float32)


def wrap_deg(a: float) -> float:
    """Angle in degrees wrapped into (-180, 180]."""
    a = (a + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def polar_profile(plane: np.ndarray, centre: tuple[float, float], radius: float,
                  needle: np.ndarray | None = None, gap: float = FOOTPRINT_GAP) -> tuple[np.ndarray, np.ndarray]:
    """Outermost crossing radius r(θ) of a binary plane around `centre`, searched between 0.4 and 1.6 x
    `radius` (NaN where none), and the footprint (rays whose crossing is followed within `gap` px by
    `needle` pixels)."""
    r0 = 0.4 * radius
    n_r = max(4, int(math.ceil(1.2 * radius / RADIAL_STEP)))
    rad = r0 + np.arange(n_r, dtype=np.float32) * RADIAL_STEP
    map_x = (centre[0] + _COS32[:, None] * rad[None, :]).astype(np.float32)
    map_y = (centre[1] + _SIN32[:, None] * rad[None, :]).astype(np.float32)
    src = plane.view(np.uint8) * np.uint8(255) if needle is None else cv2.merge(
        [plane.view(np.uint8) * np.uint8(255), needle.view(np.uint8) * np.uint8(255)])
    polar = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    occ = polar if needle is None else polar[..., 0]
    inside = occ >= 128
    any_in = inside.any(axis=1)
    last = n_r - 1 - np.argmax(inside[:, ::-1], axis=1)
    rows = np.arange(N_ANGLES)
    nxt = np.minimum(last + 1, n_r - 1)
    a, b = occ[rows, last].astype(float), occ[rows, nxt].astype(float)
    frac = np.where(a > b, (a - 127.5) / np.maximum(a - b, 1e-6), 0.0)
    r = np.where(any_in, r0 + (last + np.clip(frac, 0, 1)) * RADIAL_STEP, np.nan)
    footprint = np.zeros(N_ANGLES, dtype=bool)
    if needle is not None:
        k = int(math.ceil(gap / RADIAL_STEP))
        idx = np.minimum(last[:, None] + np.arange(1, k + 1)[None, :], n_r - 1)
        footprint = any_in & (polar[..., 1][rows[:, None], idx] >= 128).any(axis=1)
        footprint = np.logical_or.reduce([np.roll(footprint, k) for k in range(-FOOTPRINT_PAD, FOOTPRINT_PAD + 1)])
    return r, footprint


def register(r: np.ndarray, r_ref: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Offset (dx, dy) of the true centre from the profile's centre, fitted on the angles in `keep`:
    r(θ) - r_ref(θ) ≈ shift · n(θ) with n = (cos θ, sin θ), trimmed twice at max(REG_TRIM_PX, 3 MAD)."""
    e = r - r_ref
    use = keep & np.isfinite(e)
    shift = np.zeros(2)
    for _ in range(3):
        if use.sum() < 20:
            return np.zeros(2)
        a = np.column_stack([_COS[use], _SIN[use]])
        sol, *_ = np.linalg.lstsq(a, e[use], rcond=None)
        shift = sol
        res = e - (shift[0] * _COS + shift[1] * _SIN)
        mad = float(np.median(np.abs(res[use])))
        use = keep & np.isfinite(res) & (np.abs(res) <= max(REG_TRIM_PX, 3 * 1.4826 * mad))
    return shift


def dent_amplitude(dent: np.ndarray, centre_bin: float, usable: np.ndarray) -> float:
    """Amplitude of the Gaussian A exp(-Δθ²/2σ²) (σ from `_SIGMAS`) best fitting `dent` on `usable` bins
    within FIT_HALF_ANGLE of `centre_bin`; 0 when no fit is possible."""
    dth = (np.arange(N_ANGLES) - centre_bin + N_ANGLES / 2) % N_ANGLES - N_ANGLES / 2
    dth = dth * (2 * math.pi / N_ANGLES)
    use = usable & np.isfinite(dent) & (np.abs(dth) <= math.radians(FIT_HALF_ANGLE))
    if use.sum() < 6:
        return math.nan
    x, y = dth[use], dent[use]
    g = np.exp(-x[None, :] ** 2 / (2 * _SIGMAS[:, None] ** 2))
    amp = np.maximum((g @ y) / np.maximum((g * g).sum(axis=1), 1e-9), 0.0)
    sse = ((y[None, :] - amp[:, None] * g) ** 2).sum(axis=1)
    return float(amp[int(np.argmin(sse))])


def _arc_centre(footprint: np.ndarray) -> float:
    """Centre (in bins) of the longest run of footprint bins (circular)."""
    if footprint.all():
        return math.nan
    start = int(np.argmin(footprint))  # a bin outside the footprint: unroll from there
    f = np.roll(footprint, -start).astype(int)
    edges = np.flatnonzero(np.diff(np.r_[0, f, 0]))
    runs = list(zip(edges[::2], edges[1::2]))
    lo, hi = max(runs, key=lambda ab: ab[1] - ab[0])
    return ((lo + hi - 1) / 2 + start) % N_ANGLES


def axis_crossings(tip: np.ndarray, u: np.ndarray, centre: np.ndarray, r_ref: np.ndarray,
                   reach: float) -> tuple[float, float]:
    """Signed positions t (along u, from the tip) where the line tip + t u enters and leaves the reference
    outline around `centre`; (NaN, NaN) when it misses."""
    t = np.arange(-reach, reach, RADIAL_STEP)
    p = tip[None, :] + t[:, None] * u[None, :] - centre[None, :]
    rho = np.hypot(p[:, 0], p[:, 1])
    bins = np.rint(np.arctan2(p[:, 1], p[:, 0]) % (2 * math.pi) / (2 * math.pi) * N_ANGLES).astype(int) % N_ANGLES
    f = rho - r_ref[bins]
    inside = f < 0
    if not inside.any():
        return math.nan, math.nan
    i, j = int(np.argmax(inside)), len(inside) - 1 - int(np.argmax(inside[::-1]))

    def cross(a: int, b: int) -> float:  # linear zero of f between samples a and b
        if a < 0 or b >= len(t) or f[a] == f[b]:
            return float(t[max(0, min(a, b))])
        return float(t[a] + (t[b] - t[a]) * f[a] / (f[a] - f[b]))
    return cross(i - 1, i), cross(j, j + 1)


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
        return np.nanmedian(np.vstack(self._stack), axis=0)

    def update(self, frame_index: int, time_s: float, mask: np.ndarray, shapes=None) -> dict:
        """Measure one frame (`mask`: HxW class ids); returns its row (also kept for `table`).
        `shapes` is accepted for the analyze sinks' signature and not needed."""
        row = self._measure(np.asarray(mask))
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

    def _plane(self, mask: np.ndarray, role: str) -> np.ndarray | None:
        i = self._idx[role]
        return None if i is None else mask == i

    def _measure(self, mask: np.ndarray) -> dict:
        nan = math.nan
        row: dict = {"needle_present": False, "tip_x": nan, "tip_y": nan, "axis_dx": nan, "axis_dy": nan,
                     **{c: nan for c in PX_COLUMNS}, "polar_body_angle_deg": nan, "oolemma_radius_px": nan}
        qc = [f"no_{r}_class" for r, i in self._idx.items() if i is None]
        s = frame_scale(mask.shape)
        oocyte = self._plane(mask, "oocyte")
        serc = self._plane(mask, "serc")
        if oocyte is not None and serc is not None:
            oocyte = oocyte | serc
        needle = self._plane(mask, "needle")
        m = cv2.moments(oocyte.view(np.uint8), binaryImage=True) if oocyte is not None else {"m00": 0}
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
            dirn = np.degrees(np.arctan2(tip_xy[1] - centre[1], tip_xy[0] - centre[0]) - _THETA)
            keep &= np.abs((dirn + 180) % 360 - 180) > REG_EXCLUDE_DEG
        shift = register(r, r_ref, keep)
        c0 = centre + shift
        dent = r_ref - r + shift[0] * _COS + shift[1] * _SIN
        row["deformation_px"] = float(np.nanmean(np.abs(dent[~footprint]))) if (~footprint).any() else nan
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
        centre_bin = _arc_centre(footprint) if footprint.any() else math.atan2(rel[1], rel[0]) % (2 * math.pi) / (2 * math.pi) * N_ANGLES
        row["funnel_depth_px"] = dent_amplitude(dent, centre_bin, ~footprint)
        self._polar_body(mask, c0, entry, row, qc)
        self._serc_path(serc, tip_xy, u, t_in, t_out, row, qc)
        row["injection_qc"] = ";".join(dict.fromkeys(qc))
        return row

    def _polar_body(self, mask: np.ndarray, c0: np.ndarray, entry: np.ndarray, row: dict, qc: list[str]) -> None:
        pb = self._plane(mask, "polar_body")
        if pb is None:
            return
        m = cv2.moments(pb.view(np.uint8), binaryImage=True)
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
