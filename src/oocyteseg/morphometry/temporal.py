"""Temporal analysis of per-frame features: a robust smoother and a QC flag for implausible jumps.

Rule (Hampel filter): in a centred window of `window` frames, a value x_i is a jump when
|x_i - median| > max(k * 1.4826 * MAD, floor), with k = 3. 1.4826 * MAD estimates the SD of Gaussian
noise, and the floor stops a perfectly still sequence (MAD = 0) from flagging sub-pixel noise.
For the 2-D tip, the deviation is the Euclidean distance to the per-axis medians and the scale is
the norm of the two per-axis scales. The first and last frames are judged against the series
extended point-symmetrically, so a steady approach of the needle is not a jump (and a spike in the
very first or last frame cannot be told from the start of a movement). Frames are assumed equally
spaced in time (video frames); the floors suit 24 fps video and sequences of stills at >= 1 fps
with slow change. Pixel floors are for 480x640 frames; `scale` (`morphometry.scale.frame_scale`)
multiplies them for other frame sizes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.signal import savgol_filter

HAMPEL_K = 3.0
HAMPEL_WINDOW = 7  # frames, centred
# Floors of the jump threshold, in the feature's unit (tip and f3/f4 in pixels).
JUMP_FLOORS = {"f1": 0.05, "f2": 0.01, "f3": 3.0, "f4": 3.0, "tip_x": 3.0, "tip_y": 3.0}
PIXEL_COLUMNS = frozenset({"f3", "f4", "tip_x", "tip_y"})  # floors in pixels (at 480x640)
_MAD_TO_SD = 1.4826


def _rolling_median(x: np.ndarray, window: int, odd_ends: bool = False) -> np.ndarray:
    """Median over a centred window of 2 * (window // 2) + 1 frames (NaN ignored; NaN where the window holds
    no finite value), by pandas. With odd_ends the series is extended point-symmetrically
    (x[-j] = 2 x[0] - x[j]) so that a steady trend is not mistaken for a jump at either end."""
    half = window // 2
    n = len(x)
    k = min(half, n - 1) if odd_ends and n > 1 else 0
    if k:
        x = np.concatenate([2 * x[0] - x[k:0:-1], x, 2 * x[-1] - x[-2:-k - 2:-1]])
    x = np.where(np.isfinite(x), x, np.nan)  # +-inf is ignored like NaN
    med = pd.Series(x, dtype=float).rolling(2 * half + 1, center=True, min_periods=1).median().to_numpy()
    return med[k:k + n]


def hampel(x, window: int = HAMPEL_WINDOW, k: float = HAMPEL_K, floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Hampel filter of a 1-D series: (values with outliers replaced by the rolling median, outlier mask)."""
    x = np.asarray(x, dtype=float)
    med = _rolling_median(x, window, odd_ends=True)
    mad = _rolling_median(np.abs(x - med), window)
    with np.errstate(invalid="ignore"):
        jump = np.isfinite(x) & (np.abs(x - med) > np.maximum(k * _MAD_TO_SD * mad, floor))
    return np.where(jump, med, x), jump


def smooth_trajectory(times, tip_xy, window: int = HAMPEL_WINDOW, k: float = HAMPEL_K, floor_px: float = 3.0,
                      savgol_window: int = 5, polyorder: int = 2, scale: float = 1.0) -> pd.DataFrame:
    """Smooth a needle-tip trajectory robustly: Hampel filter (2-D), then Savitzky-Golay on each finite run.

    Args:
        times: frame times (s); rows are sorted by time.
        tip_xy: (N, 2) tip positions in px, NaN where no tip was found.
        scale: the frames' `frame_scale`; `floor_px` (at 480x640) is multiplied by it.
    Returns a DataFrame: time_s, x, y, x_smooth, y_smooth, qc_jump (True where the raw tip jumped).
    """
    t = np.asarray(times, dtype=float)
    xy = np.asarray(tip_xy, dtype=float).reshape(-1, 2)
    if len(t) != len(xy):
        raise ValueError(f"times ({len(t)}) and tip_xy ({len(xy)}) differ in length")
    order = np.argsort(t, kind="stable")
    t, xy = t[order], xy[order]
    med = np.column_stack([_rolling_median(xy[:, i], window, odd_ends=True) for i in range(2)])
    dev = xy - med
    mad = np.column_stack([_rolling_median(np.abs(dev[:, i]), window) for i in range(2)])
    spread = _MAD_TO_SD * np.hypot(mad[:, 0], mad[:, 1])
    with np.errstate(invalid="ignore"):
        jump = np.isfinite(xy).all(axis=1) & (np.hypot(dev[:, 0], dev[:, 1]) > np.maximum(k * spread, floor_px * scale))
    clean = np.where(jump[:, None], med, xy)
    smooth = np.column_stack([_savgol_runs(clean[:, i], savgol_window, polyorder) for i in range(2)])
    return pd.DataFrame({"time_s": t, "x": xy[:, 0], "y": xy[:, 1], "x_smooth": smooth[:, 0],
                         "y_smooth": smooth[:, 1], "qc_jump": jump})


def _savgol_runs(x: np.ndarray, window: int, polyorder: int) -> np.ndarray:
    """Savitzky-Golay over each run of finite values; runs shorter than polyorder + 2 are left as is."""
    out = x.copy()
    finite = np.isfinite(x)
    edges = np.flatnonzero(np.diff(np.r_[False, finite, False].astype(int)))
    for start, stop in zip(edges[::2], edges[1::2]):
        n = stop - start
        w = min(window, n if n % 2 else n - 1)
        if w > polyorder:
            out[start:stop] = savgol_filter(x[start:stop], w, polyorder, mode="interp")
    return out


def flag_jumps(df: pd.DataFrame, columns: tuple[str, ...] = ("f1", "f2", "f3", "f4"),
               window: int = HAMPEL_WINDOW, k: float = HAMPEL_K,
               floors: dict[str, float] | None = None, scale: float = 1.0) -> pd.DataFrame:
    """Add `qc_jump` (bool) and `qc` (e.g. 'jump:f3;jump:f4') to a features table.

    Each (case, video) sequence is ordered by frame_index, else time_s, and every column is run
    through the Hampel rule of this module. `scale` (the frames' `frame_scale`) multiplies the pixel
    floors (`PIXEL_COLUMNS`).
    """
    floors = {c: v * scale if c in PIXEL_COLUMNS else v for c, v in {**JUMP_FLOORS, **(floors or {})}.items()}
    out = df.copy()
    flags = pd.Series([""] * len(out), index=out.index, dtype=object)
    groups = [c for c in ("case", "video") if c in out.columns]
    sort_key = "frame_index" if "frame_index" in out.columns and (out["frame_index"] >= 0).all() else "time_s"
    for _, sub in (out.groupby(groups, sort=False) if groups else [(None, out)]):
        sub = sub.sort_values(sort_key) if sort_key in sub.columns else sub
        for col in columns:
            if col not in sub.columns:
                continue
            _, jump = hampel(sub[col].to_numpy(float), window, k, floors.get(col, 0.0))
            for idx in sub.index[jump]:
                flags[idx] = f"{flags[idx]};jump:{col}" if flags[idx] else f"jump:{col}"
    out["qc"] = flags
    out["qc_jump"] = flags != ""
    return out


def tip_speed(times, tip_xy) -> np.ndarray:
    """Tip speed in px/s between consecutive frames (NaN for the first frame and around gaps)."""
    t = np.asarray(times, dtype=float)
    xy = np.asarray(tip_xy, dtype=float).reshape(-1, 2)
    speed = np.full(len(t), math.nan)
    if len(t) > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            speed[1:] = np.hypot(*np.diff(xy, axis=0).T) / np.diff(t)
    return speed
