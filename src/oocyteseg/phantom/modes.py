"""Draw a case's breakage mode (issue #17): the needle's path for the mode and a polar body at a known angle.

Modes (`injection_modes.MODES`): `pressure` - a deep funnel (0.25-0.5 R) that relaxes suddenly at breakage;
`shallow` - a shallow curve (0.06-0.15 R) then breakage; `no_resistance` - the needle enters with almost no
funnel (1-2.5 px) at its approach speed and nothing relaxes; `repeated` - one or two funnels that relax as
the needle is pulled back a little without breaking, then a push that breaks (2 or 3 attempts in all).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from oocyteseg.injection_modes import MODES
from oocyteseg.phantom.geometry import axis_entry
from oocyteseg.phantom.params import CaseParams, ResponseParams

_BREAK_DEPTH = {"pressure": (0.25, 0.5), "shallow": (0.06, 0.15), "repeated": (0.3, 0.45)}  # x radius
_PUSH = {"pressure": (0.18, 0.28), "shallow": (0.08, 0.14), "repeated": (0.12, 0.18)}  # x video length


def sample_response(rng: np.random.Generator, mode: str, radius: float, start_depth: float) -> ResponseParams:
    """The needle's path and the oolemma's response in `mode`; `start_depth` is the tip depth at t=0 (< 0)."""
    if mode not in MODES:
        raise ValueError(f"unknown breakage mode {mode!r}; valid: {', '.join(MODES)}")
    u_contact = float(rng.uniform(0.12, 0.2))
    segs: list[tuple[float, float, bool]] = []  # (duration as a fraction of the video, depth at its end, eased)
    peaks: list[int] = []  # segments whose end starts a funnel relaxation
    if mode == "repeated":
        for _ in range(1 if rng.random() < 0.7 else 2):  # failed attempts: push, pull back a little, pause
            peak = float(rng.uniform(0.15, 0.3) * radius)
            back = peak * float(rng.uniform(0.1, 0.5))
            segs += [(rng.uniform(0.10, 0.16), peak, False), (rng.uniform(0.03, 0.05), back, False),
                     (rng.uniform(0.02, 0.04), back, False)]
            peaks.append(len(segs) - 3)
    if mode == "no_resistance":
        break_depth = float(rng.uniform(1.0, 2.5))
        push = break_depth * u_contact / -start_depth  # at the approach speed: nothing resists
    else:
        break_depth = float(rng.uniform(*_BREAK_DEPTH[mode]) * radius)
        push = rng.uniform(*_PUSH[mode])
    segs.append((push, break_depth, False))
    peaks.append(len(segs) - 1)
    deep = break_depth + float(rng.uniform(0.15, 0.4) if mode in ("pressure", "repeated")
                               else rng.uniform(0.25, 0.5)) * radius
    segs += [(rng.uniform(0.08, 0.15), deep, True), (rng.uniform(0.04, 0.08), deep, False),
             (rng.uniform(0.10, 0.18), deep * (1 - float(rng.uniform(0.6, 1.4))), True)]
    scale = min(1.0, (0.95 - u_contact) / sum(s[0] for s in segs))
    keys, u = [(0.0, float(start_depth), False), (u_contact, 0.0, False)], u_contact
    for dur, depth, eased in segs:
        u += float(dur) * scale
        keys.append((u, float(depth), eased))
    ends = [keys[i + 2][0] for i in peaks]
    tau, residual = ((0.1, 1.0) if mode == "no_resistance" else
                     (float(rng.uniform(0.04, 0.1)), float(rng.uniform(*((0.1, 0.3) if mode == "shallow"
                                                                         else (0.05, 0.15))))))
    return ResponseParams(mode=mode, keys=tuple(keys), u_break=ends[-1], peaks=tuple(ends), break_depth=break_depth,
                          relax_tau=tau, residual=residual, drag=float(rng.uniform(0.05, 0.12)))


def with_response(case: CaseParams, mode: str, rng: np.random.Generator) -> CaseParams:
    """`case` with breakage mode `mode` and a polar body at a uniform angle, at least 30 degrees from the needle's
    entry point and 25 degrees from the holding pipette (9 o'clock)."""
    o, n = case.oocyte, case.needle
    response = sample_response(rng, mode, o.radius, -(o.pvs + o.zona + n.start_gap))
    entry_theta = axis_entry(case)[2]

    def clear(a: float, b: float, deg: float) -> bool:
        return abs(math.remainder(a - b, 2 * math.pi)) > math.radians(deg)

    angle = float(rng.uniform(-math.pi, math.pi))
    while not (clear(angle, entry_theta, 30) and clear(angle, math.pi, 25)):
        angle = float(rng.uniform(-math.pi, math.pi))
    size = float(rng.uniform(9, 15) * min(case.height, case.width) / 480.0)
    return replace(case, oocyte=replace(o, polar_body=(angle, size)), response=response)
