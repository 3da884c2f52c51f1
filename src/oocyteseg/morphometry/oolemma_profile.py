"""The oolemma as a polar profile r(θ) and what is read from it: registration to a reference, the dent's
amplitude, the needle axis's crossings (used by `morphometry.injection`; method in its docstring)."""

from __future__ import annotations

import math

import cv2
import numpy as np

N_ANGLES = 360
RADIAL_STEP = 0.5  # px per polar sample
FOOTPRINT_GAP = 3.0  # px beyond the oolemma crossing where needle pixels make a ray part of the footprint
FOOTPRINT_PAD = 2  # angle bins added on each side of the footprint
REG_TRIM_PX = 1.0  # residual floor (px) for trimming the registration fit
FIT_HALF_ANGLE = 90.0  # degrees either side of the needle read for the funnel fit
SIGMAS = np.geomspace(0.02, 0.8, 28)  # Gaussian widths tried for the dent (radians)

THETA = np.arange(N_ANGLES) * (2 * math.pi / N_ANGLES)
COS, SIN = np.cos(THETA), np.sin(THETA)
COS32, SIN32 = COS.astype(np.float32), SIN.astype(np.float32)


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
    # only the disc the rays reach is read (with a pixel to spare for the bilinear samples): samples outside
    # it are outside the frame too, so they read 0 either way
    reach = float(rad[-1]) + 2.0
    x0, y0 = max(0, int(math.floor(centre[0] - reach))), max(0, int(math.floor(centre[1] - reach)))
    x1 = min(plane.shape[1], int(math.ceil(centre[0] + reach)) + 1)
    y1 = min(plane.shape[0], int(math.ceil(centre[1] + reach)) + 1)
    plane = plane[y0:y1, x0:x1]
    needle = None if needle is None else needle[y0:y1, x0:x1]
    map_x = (centre[0] - x0 + COS32[:, None] * rad[None, :]).astype(np.float32)
    map_y = (centre[1] - y0 + SIN32[:, None] * rad[None, :]).astype(np.float32)
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
        a = np.column_stack([COS[use], SIN[use]])
        sol, *_ = np.linalg.lstsq(a, e[use], rcond=None)
        shift = sol
        res = e - (shift[0] * COS + shift[1] * SIN)
        mad = float(np.median(np.abs(res[use])))
        use = keep & np.isfinite(res) & (np.abs(res) <= max(REG_TRIM_PX, 3 * 1.4826 * mad))
    return shift


def dent_amplitude(dent: np.ndarray, centre_bin: float, usable: np.ndarray) -> float:
    """Amplitude of the Gaussian A exp(-Δθ²/2σ²) (σ from `SIGMAS`) best fitting `dent` on `usable` bins
    within FIT_HALF_ANGLE of `centre_bin`; 0 when no fit is possible."""
    dth = (np.arange(N_ANGLES) - centre_bin + N_ANGLES / 2) % N_ANGLES - N_ANGLES / 2
    dth = dth * (2 * math.pi / N_ANGLES)
    use = usable & np.isfinite(dent) & (np.abs(dth) <= math.radians(FIT_HALF_ANGLE))
    if use.sum() < 6:
        return math.nan
    x, y = dth[use], dent[use]
    g = np.exp(-x[None, :] ** 2 / (2 * SIGMAS[:, None] ** 2))
    amp = np.maximum((g @ y) / np.maximum((g * g).sum(axis=1), 1e-9), 0.0)
    sse = ((y[None, :] - amp[:, None] * g) ** 2).sum(axis=1)
    return float(amp[int(np.argmin(sse))])


def arc_centre(footprint: np.ndarray) -> float:
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
