"""Geometry of a phantom ICSI frame: the oocyte outline, the needle's travel and the oolemma's dimple, camera
jitter. The image (`render.render_frame`) and the masks (`render.anatomy_mask`) are both drawn from it, so the
masks are exact. A case with a breakage mode (`CaseParams.response`, issue #17) takes its needle path and
funnel from `response`, and its ooplasm (texture and sERC) is displaced with the dent (`Geometry.src`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from oocyteseg.phantom.params import CaseParams
from oocyteseg.phantom.response import funnel_depth, source_coords, tip_depth


@dataclass(frozen=True)
class NeedleState:
    """Needle and oolemma state at one instant."""

    tip: tuple[float, float]  # (x, y) of the needle tip, px
    direction: tuple[float, float]  # unit vector of travel
    indentation: float  # depth of the oolemma dimple (px)
    dimple_angle: float  # polar angle (from the oocyte centre) of the dimple
    zona_dent: float
    broken: bool  # has the needle entered the ooplasm
    depth: float = math.nan  # tip depth past the undeformed oolemma along the axis (px)
    entry: tuple[float, float] | None = None  # where the axis crosses the undeformed oolemma (x, y)


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def oolemma_radius(case: CaseParams, theta: np.ndarray | float) -> np.ndarray | float:
    """Undeformed oolemma (ooplasm) radius at polar angle theta (ellipse times low harmonics)."""
    o = case.oocyte
    a = o.radius / math.sqrt(o.aspect)
    b = o.radius * math.sqrt(o.aspect)
    phi = theta - o.angle
    r = a * b / np.sqrt((b * np.cos(phi)) ** 2 + (a * np.sin(phi)) ** 2)
    for k, amp, phase in o.harmonics:
        r = r * (1 + amp * np.cos(k * theta + phase))
    return r


def axis_entry(case: CaseParams) -> tuple[np.ndarray, np.ndarray, float]:
    """Where the needle's axis crosses the undeformed oolemma: (point (x, y), unit direction of travel, polar
    angle of the point seen from the oocyte centre)."""
    n, o = case.needle, case.oocyte
    d = np.array([math.cos(n.angle), math.sin(n.angle)])
    perp = np.array([-d[1], d[0]])
    centre = np.array([o.cx, o.cy])
    q = centre + n.offset * perp
    # distance from q (back along -d) to the undeformed oolemma
    lo, hi = 0.0, 3 * o.radius
    for _ in range(40):  # bisection for the entry point on the oolemma along the axis
        mid = (lo + hi) / 2
        p = q - mid * d
        rel = p - centre
        if math.hypot(*rel) < float(oolemma_radius(case, math.atan2(rel[1], rel[0]))):
            lo = mid
        else:
            hi = mid
    l_ool = lo
    entry = q - l_ool * d
    return entry, d, math.atan2(entry[1] - o.cy, entry[0] - o.cx)


def needle_state(case: CaseParams, u: float, duration_s: float) -> NeedleState | None:
    """Where the needle tip is and how deep the oolemma is indented at time fraction u in [0, 1]."""
    n = case.needle
    if n is None:
        return None
    o = case.oocyte
    entry, d, entry_theta = axis_entry(case)
    centre = np.array([o.cx, o.cy])
    if case.response is not None:
        return _response_state(case, entry, d, u, duration_s)
    depth0 = -(o.pvs + o.zona + n.start_gap)
    t_touch = 0.45 * n.t_break  # approach quickly, then indent slowly as a real pipette does
    if u <= t_touch:
        depth = depth0 * (1 - u / t_touch)
    elif u <= n.t_break:
        depth = n.break_depth * ((u - t_touch) / (n.t_break - t_touch)) ** 1.1
    elif u <= n.t_deepest:
        depth = n.break_depth + (n.max_depth - n.break_depth) * _smoothstep((u - n.t_break) / (n.t_deepest - n.t_break))
    else:
        depth = n.max_depth - n.withdraw * _smoothstep((u - n.t_deepest) / max(1e-6, 1 - n.t_deepest))
    tip = entry + depth * d
    zona_dent = float(np.clip(depth + o.pvs + o.zona, 0, o.zona * 0.5) * 0.5)
    if u <= n.t_break:
        rel = tip - centre
        theta = math.atan2(rel[1], rel[0])
        indentation = max(0.0, float(oolemma_radius(case, theta)) - math.hypot(*rel))
        return NeedleState(tuple(tip), tuple(d), indentation, theta, zona_dent, False, depth, tuple(entry))
    # after the oolemma breaks it relaxes back within a fraction of a second
    dt = (u - n.t_break) * duration_s
    residual = 0.12 * n.break_depth
    indentation = residual + (n.break_depth - residual) * math.exp(-dt / 0.35)
    return NeedleState(tuple(tip), tuple(d), indentation, entry_theta, zona_dent, True, depth, tuple(entry))


def _response_state(case: CaseParams, entry: np.ndarray, d: np.ndarray, u: float, duration_s: float) -> NeedleState:
    """Needle state of a case with a breakage mode: the dent's apex lies on the axis at the funnel depth."""
    o, r = case.oocyte, case.response
    depth = tip_depth(r, u)
    funnel = funnel_depth(r, u, duration_s)
    apex = entry + funnel * d - np.array([o.cx, o.cy])
    theta = math.atan2(apex[1], apex[0])
    indentation = max(0.0, float(oolemma_radius(case, theta)) - math.hypot(*apex))
    zona_dent = float(np.clip(depth + o.pvs + o.zona, 0, o.zona * 0.5) * 0.5)
    broken = u > r.u_break and depth > funnel
    return NeedleState(tuple(entry + depth * d), tuple(d), indentation, theta, zona_dent, broken, depth,
                       tuple(entry))


def dent_width(case: CaseParams, state: NeedleState) -> float:
    """Width (px, one sigma along the oolemma) of the oolemma's dent."""
    return case.needle.half_width * 1.6 + 0.45 * state.indentation


def dented_radius(case: CaseParams, state: NeedleState, theta: np.ndarray | float) -> np.ndarray | float:
    """Oolemma radius at polar angle theta with the needle's dent (the jitter-free geometry of `frame_geometry`)."""
    dtheta = np.angle(np.exp(1j * (np.asarray(theta) - state.dimple_angle)))
    sig = dent_width(case, state) / case.oocyte.radius
    return oolemma_radius(case, theta) - state.indentation * np.exp(-dtheta ** 2 / (2 * sig * sig))


@lru_cache(maxsize=8)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return xs, ys


def jitter_offset(case: CaseParams, frame_index: int) -> tuple[int, int]:
    """Smooth, deterministic camera jitter (integer pixels) for a frame."""
    a = case.optics.jitter
    phase = (case.seed % 1000) * 0.37
    dx = a * (math.sin(0.31 * frame_index + phase) + 0.5 * math.sin(0.87 * frame_index + 2 * phase))
    dy = a * (math.cos(0.23 * frame_index + phase) + 0.5 * math.sin(0.71 * frame_index + 3 * phase))
    return int(round(dx)), int(round(dy))


@dataclass(frozen=True)
class Geometry:
    """Where everything is in one frame (jitter applied): the layer both the image and the masks come from."""

    xs: np.ndarray  # pixel x coordinates (H, W)
    ys: np.ndarray
    cx: float  # oocyte centre
    cy: float
    rx: np.ndarray  # xs - cx, ys - cy
    ry: np.ndarray
    rho: np.ndarray  # distance from the oocyte centre
    r0: np.ndarray  # undeformed oolemma radius at each pixel's angle
    r_ool: np.ndarray  # oolemma radius, dented by the needle
    z_in: np.ndarray  # inner radius of the zona (dented by the needle); outer = z_in + zona
    state: NeedleState | None
    tip: tuple[float, float] | None  # needle tip in the jittered frame
    jitter: tuple[int, int]
    src: tuple[np.ndarray, np.ndarray] | None = None  # breakage modes: where the ooplasm sat (rx, ry) undeformed


def frame_geometry(case: CaseParams, u: float, *, duration_s: float = 4.0, frame_index: int = 0) -> Geometry:
    """Oocyte, oolemma, zona and needle geometry of the frame at time fraction u in [0, 1]."""
    o = case.oocyte
    jx, jy = jitter_offset(case, frame_index)
    xs, ys = _grid(case.height, case.width)
    cx, cy = o.cx + jx, o.cy + jy
    rx, ry = xs - cx, ys - cy
    rho = np.sqrt(rx * rx + ry * ry)
    theta = np.arctan2(ry, rx)
    r0 = oolemma_radius(case, theta).astype(np.float32)
    state = needle_state(case, u, duration_s)
    if state is not None:
        tip = (state.tip[0] + jx, state.tip[1] + jy)
        dtheta = np.angle(np.exp(1j * (theta - state.dimple_angle))).astype(np.float32)
        sig = dent_width(case, state) / o.radius
        dent = state.indentation * np.exp(-dtheta ** 2 / (2 * sig * sig))
        r_ool = r0 - dent
        zsig = (case.needle.half_width * 2.5) / o.radius
        dent_z = state.zona_dent * np.exp(-dtheta ** 2 / (2 * zsig * zsig))
    else:
        r_ool, dent_z, tip = r0, 0.0, None
    z_in = r0 + o.pvs - dent_z
    src = None
    if case.response is not None and state is not None:
        drag = None
        if state.broken:
            entry = (state.entry[0] - o.cx, state.entry[1] - o.cy)
            drag = (case.response.drag * state.depth, entry, state.direction, state.depth, case.needle.half_width)
        src = source_coords(rx, ry, rho, dent, r_ool, dent_width(case, state), drag)
    return Geometry(xs, ys, cx, cy, rx, ry, rho, r0, r_ool, z_in, state, tip, (jx, jy), src)


def polar_body_disk(case: CaseParams, cx: float, cy: float) -> tuple[float, float, float] | None:
    """Centre (x, y) and radius of the polar body for an oocyte centred at (cx, cy); None without one."""
    if case.oocyte.polar_body is None:
        return None
    ang, rpb = case.oocyte.polar_body
    dist = float(oolemma_radius(case, ang)) + case.oocyte.pvs * 0.5 + rpb * 0.55
    return cx + dist * math.cos(ang), cy + dist * math.sin(ang), rpb
