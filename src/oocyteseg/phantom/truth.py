"""Ground truth of the injection in a phantom case with a breakage mode (issue #17), computed from the geometry
(never from the masks): per frame the funnel depth, the tip's penetration, whether the needle is inside the
ooplasm and the phase; per case the mode, the event frames and the polar body's angle to the injection site.

Definitions (px along the needle axis, relative to the undeformed oolemma): funnel depth = how far along the
axis the dented oolemma is first crossed; penetration = tip depth past the undeformed oolemma (< 0 before).
Events: contact = first frame the oolemma is displaced by > 0.5 px (no_resistance: the tip reaches the
oolemma); breakage_attempts = first frame after each funnel starts to relax (failed attempts, then the
breakage = first frame the needle is inside); max_funnel = deepest funnel up to the breakage frame (for
no_resistance, whose dent shows only once the needle is in, that is the breakage frame); the funnel depth at
breakage = the deeper of the frame before the breakage and the breakage frame; injection = deepest tip;
withdrawal = first frame after it with penetration < 0 (None if never). Angles: on screen,
counter-clockwise, 0 = the direction of the needle's entry point seen from the oocyte centre.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from oocyteseg.phantom.geometry import NeedleState, axis_entry, dented_radius, needle_state
from oocyteseg.phantom.params import CaseParams

TRUTH_COLUMNS = ["frame", "time_s", "funnel_depth_px", "penetration_px", "broken", "phase"]


def axis_funnel(case: CaseParams, state: NeedleState) -> float:
    """The oolemma's displacement along the needle axis (px) in `state`."""
    if state.indentation <= 0:
        return 0.0
    o = case.oocyte
    entry, d = np.asarray(state.entry) - (o.cx, o.cy), np.asarray(state.direction)

    def inside(s: np.ndarray) -> np.ndarray:
        px, py = entry[0] + s * d[0], entry[1] + s * d[1]
        return np.hypot(px, py) < dented_radius(case, state, np.arctan2(py, px))

    steps = np.arange(0.0, 2 * state.indentation + 10, 0.25)
    first = int(np.argmax(inside(steps)))
    lo, hi = max(0.0, steps[first] - 0.25), float(steps[first])
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if inside(np.array(mid)) else (mid, hi)
    return hi


def polar_angle(case: CaseParams) -> tuple[float, float] | None:
    """(polar_body_angle_deg in (-180, 180], polar_body_clock in (0, 12]) of the case's polar body, or None."""
    if case.oocyte.polar_body is None or case.needle is None:
        return None
    deg = math.degrees(math.remainder(axis_entry(case)[2] - case.oocyte.polar_body[0], 2 * math.pi))
    deg = 180.0 if deg <= -180 else deg
    clock = (3 - deg / 30) % 12
    return deg, 12.0 if clock == 0 else clock


def _first(flags: np.ndarray, start: int = 0) -> int | None:
    hits = np.flatnonzero(flags[start:])
    return int(hits[0]) + start if hits.size else None


def injection_truth(case: CaseParams, n_frames: int, fps: float, duration_s: float) -> tuple[pd.DataFrame, dict]:
    """Per-frame table (TRUTH_COLUMNS) and per-case summary of a case with a breakage mode, for frames
    rendered at u = i / (n_frames - 1) with `duration_s` as `render_frame` is called."""
    r = case.response
    if r is None:
        raise ValueError(f"case {case.case_id} has no breakage mode")
    u = np.arange(n_frames) / max(1, n_frames - 1)
    states = [needle_state(case, float(x), duration_s) for x in u]
    funnel = np.array([axis_funnel(case, s) for s in states])
    pen = np.array([s.depth for s in states])
    broken = np.array([s.broken for s in states])
    contact = _first(pen >= 0 if r.mode == "no_resistance" else funnel > 0.5)
    breakage = _first(broken)
    attempts = [_first(u > p) for p in r.peaks]
    injection = int(np.argmax(pen))
    withdrawal = _first(pen < 0, injection)
    phase = np.full(n_frames, "approach", dtype=object)
    if contact is not None:
        phase[contact:] = "indent"
    if breakage is not None:
        phase[breakage:] = np.where(broken[breakage:], "inside", "withdrawn")
    frames = pd.DataFrame({"frame": np.arange(n_frames), "time_s": np.round(np.arange(n_frames) / fps, 6),
                           "funnel_depth_px": np.round(funnel, 3), "penetration_px": np.round(pen, 3),
                           "broken": broken, "phase": phase}, columns=TRUTH_COLUMNS)
    pb = polar_angle(case)
    entry_deg = -math.degrees(axis_entry(case)[2])
    summary = {
        "mode": r.mode, "attempts": len(r.peaks),
        "events": {"contact": contact,
                   "max_funnel": None if breakage is None else int(np.argmax(funnel[:breakage + 1])),
                   "breakage": breakage, "breakage_attempts": attempts,
                   "injection": injection, "withdrawal": withdrawal},
        "funnel_depth_at_breakage_px": None if breakage is None else round(float(funnel[max(0, breakage - 1):
                                                                                      breakage + 1].max()), 3),
        "polar_body_angle_deg": None if pb is None else round(pb[0], 3),
        "polar_body_clock": None if pb is None else round(pb[1], 4),
        "entry_angle_deg": round(entry_deg, 3),  # on screen, counter-clockwise from 3 o'clock
        "fps": float(fps), "pixel_size_um": None,
    }
    return frames, summary
