"""Per-case parameters of the phantom, drawn from a seeded generator.

Everything that differs between ICSI cases lives here (oocyte size, shape and texture, sERC size and
presence, needle angle, speed and width, optics), so that leave-one-case-out cross-validation on the
phantom is a real test of generalisation to an unseen case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class OocyteParams:
    cx: float
    cy: float
    radius: float  # mean ooplasm radius (px)
    aspect: float  # minor/major axis ratio of the ooplasm ellipse
    angle: float  # ellipse orientation (rad)
    harmonics: tuple[tuple[int, float, float], ...]  # (k, amplitude as fraction of radius, phase)
    pvs: float  # perivitelline space width (px)
    zona: float  # zona pellucida thickness (px)
    grain_sigma: float  # granule size of the ooplasm texture (px)
    grain_contrast: float
    darkness: float  # how much darker the ooplasm is than the medium
    polar_body: tuple[float, float] | None  # (angle rad, radius px) or None


@dataclass(frozen=True)
class SercParams:
    dx: float  # centre offset from the oocyte centre (px)
    dy: float
    rx: float
    ry: float
    angle: float
    brightness: float  # how much brighter than the surrounding ooplasm
    smoothness: float  # fraction of the granular texture removed inside the sERC


@dataclass(frozen=True)
class NeedleParams:
    angle: float  # direction of travel (rad; pi = moving leftwards)
    offset: float  # perpendicular offset of the axis from the oocyte centre (px)
    half_width: float  # outer half-width of the shaft (px)
    wall: float  # wall thickness as a fraction of the half-width
    taper: float  # length over which the needle narrows to its tip (px)
    start_gap: float  # distance of the tip from the zona at t=0 (px)
    break_depth: float  # indentation depth at which the oolemma breaks (px)
    max_depth: float  # deepest tip position past the undeformed oolemma (px)
    t_break: float  # fraction of the video at which the oolemma breaks
    t_deepest: float  # fraction of the video at which the tip is deepest
    withdraw: float  # how far the tip is pulled back by the end (px)


@dataclass(frozen=True)
class PipetteParams:
    half_width: float
    lumen: float
    dy: float  # vertical offset of its axis from the oocyte centre


@dataclass(frozen=True)
class OpticsParams:
    relief_angle: float  # direction of the relief (Hoffman-like) shading (rad)
    relief_gain: float
    background: float  # medium grey level (0..255)
    contrast: float
    illum: tuple[float, float, float]  # linear x, linear y, radial illumination fall-off
    blur: float  # defocus blur sigma (px)
    noise: float  # sensor noise sigma (grey levels)
    tint: tuple[float, float, float]  # per-channel gain (R, G, B)
    jitter: float  # camera jitter amplitude (px)


@dataclass(frozen=True)
class ResponseParams:
    """How the oolemma answers the needle (issue #17): a breakage mode and the tip's path along its axis.

    The tip depth (px past the undeformed oolemma, negative before it) runs through `keys`; until `u_break`
    the oolemma follows the tip (funnel = max(0, depth)), then it breaks and the funnel relaxes from
    `break_depth` to `residual` * `break_depth` with time constant `relax_tau`.
    """

    mode: str  # one of injection_modes.MODES
    keys: tuple[tuple[float, float, bool], ...]  # (time fraction, tip depth px, eased) ending each segment
    u_break: float  # time fraction of the (last, successful) breakage
    peaks: tuple[float, ...]  # time fractions at which each funnel starts to relax (failed attempts, breakage)
    break_depth: float  # funnel depth at breakage (px)
    relax_tau: float  # relaxation time constant after breakage (s)
    residual: float  # fraction of the funnel left once relaxed (1 = no relaxation)
    drag: float  # how far the needle drags the ooplasm after breakage, as a fraction of its penetration


@dataclass(frozen=True)
class CaseParams:
    """Everything needed to render any frame of one phantom case."""

    case_id: str
    seed: int
    height: int
    width: int
    oocyte: OocyteParams
    serc: SercParams | None
    needle: NeedleParams | None
    pipette: PipetteParams | None
    optics: OpticsParams
    extra: dict = field(default_factory=dict)
    response: ResponseParams | None = None  # None: the needle of the first phantom (no breakage modes)


def sample_case(seed: int, case_id: str, height: int = 480, width: int = 640, *,
                serc_probability: float = 0.8, with_needle: bool = True,
                with_pipette: bool = True, response: str | None = None) -> CaseParams:
    """Draw the parameters of one ICSI case from `seed` (deterministic).

    `response` (one of injection_modes.MODES) gives the needle that breakage mode and always a polar body at
    a uniform angle away from the needle and the pipette, both drawn from a separate stream: the case's
    other parameters are those drawn without it.
    """
    rng = np.random.default_rng(seed)
    s = min(height, width) / 480.0  # scale factor: all sizes are tuned at 480x640
    radius = rng.uniform(118, 142) * s
    zona = rng.uniform(13, 21) * s
    pvs = rng.uniform(3, 9) * s
    outer = radius + pvs + zona
    pip_w = rng.uniform(42, 58) * s if with_pipette else 0.0
    # the oocyte sits left of centre, held by the pipette, leaving room for the needle on the right
    cx = float(np.clip(width * rng.uniform(0.40, 0.47), outer + pip_w * 0.6, width - outer - 60 * s))
    cy = float(height / 2 + rng.uniform(-18, 18) * s)
    harmonics = tuple((int(k), float(rng.uniform(0.0, 0.018)), float(rng.uniform(0, 2 * math.pi)))
                      for k in (2, 3, 4, 5))
    polar = None
    if rng.random() < 0.75:
        # keep the polar body away from the needle's side (angle 0 = right, 3 o'clock)
        polar = (float(rng.uniform(math.radians(60), math.radians(300))), float(rng.uniform(9, 15) * s))
    oocyte = OocyteParams(
        cx=cx, cy=cy, radius=radius, aspect=float(rng.uniform(0.88, 1.0)), angle=float(rng.uniform(0, math.pi)),
        harmonics=harmonics, pvs=pvs, zona=zona, grain_sigma=float(rng.uniform(0.9, 1.7) * s),
        grain_contrast=float(rng.uniform(0.07, 0.13)), darkness=float(rng.uniform(0.10, 0.22)),
        polar_body=polar,
    )
    serc = None
    if rng.random() < serc_probability:
        r = rng.uniform(9, 34) * s
        dist = rng.uniform(0.0, 0.62) * (radius - r)
        phi = rng.uniform(0, 2 * math.pi)
        serc = SercParams(dx=float(dist * math.cos(phi)), dy=float(dist * math.sin(phi)), rx=float(r),
                          ry=float(r * rng.uniform(0.75, 1.0)), angle=float(rng.uniform(0, math.pi)),
                          brightness=float(rng.uniform(0.05, 0.11)), smoothness=float(rng.uniform(0.7, 0.95)))
    needle = None
    if with_needle:
        t_break = float(rng.uniform(0.45, 0.6))
        break_depth = float(rng.uniform(0.25, 0.5) * radius)
        needle = NeedleParams(
            angle=float(math.pi + rng.uniform(-0.2, 0.2)), offset=float(rng.uniform(-0.15, 0.15) * radius),
            half_width=float(rng.uniform(5.0, 7.5) * s), wall=float(rng.uniform(0.25, 0.4)),
            taper=float(rng.uniform(22, 40) * s), start_gap=float(rng.uniform(40, 110) * s),
            break_depth=break_depth, max_depth=float(break_depth + rng.uniform(0.1, 0.45) * radius),
            t_break=t_break, t_deepest=float(rng.uniform(t_break + 0.15, 0.9)),
            withdraw=float(rng.uniform(0.0, 0.25) * radius),
        )
    pipette = None
    if with_pipette:
        pipette = PipetteParams(half_width=float(pip_w), lumen=float(rng.uniform(0.18, 0.3) * pip_w),
                                dy=float(rng.uniform(-8, 8) * s))
    optics = OpticsParams(
        relief_angle=float(rng.uniform(0, 2 * math.pi)), relief_gain=float(rng.uniform(5.0, 9.0)),
        background=float(rng.uniform(120, 175)), contrast=float(rng.uniform(0.8, 1.2)),
        illum=(float(rng.uniform(-0.12, 0.12)), float(rng.uniform(-0.12, 0.12)), float(rng.uniform(0.0, 0.18))),
        blur=float(rng.uniform(0.4, 1.3) * s), noise=float(rng.uniform(1.5, 4.5)),
        tint=tuple(float(v) for v in (1.0 + rng.uniform(-0.04, 0.04), 1.0 + rng.uniform(-0.02, 0.05),
                                      1.0 + rng.uniform(-0.05, 0.03))),
        jitter=float(rng.uniform(0.5, 2.5) * s),
    )
    case = CaseParams(case_id=case_id, seed=seed, height=height, width=width, oocyte=oocyte, serc=serc,
                      needle=needle, pipette=pipette, optics=optics)
    if response is None:
        return case
    if needle is None:
        raise ValueError("a breakage mode needs a needle")
    from oocyteseg.phantom.modes import with_response  # modes builds on these dataclasses
    return with_response(case, response, np.random.default_rng([seed, 17]))
