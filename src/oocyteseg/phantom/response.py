"""The oolemma's response to the needle in the breakage modes (issue #17): the tip's path along the needle
axis, the funnel (dent) it makes, and the displacement of the ooplasm that follows the dent.

Pure functions of a case's `ResponseParams` and of pixel coordinates; `geometry` places them in the frame.
"""

from __future__ import annotations

import math

import numpy as np

from oocyteseg.phantom.params import ResponseParams


def _ease(x: float, eased: bool) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x) if eased else x


def tip_depth(resp: ResponseParams, u: float) -> float:
    """Tip depth past the undeformed oolemma along the needle axis (px; negative outside) at time fraction u."""
    keys = resp.keys
    if u <= keys[0][0]:
        return keys[0][1]
    for (u0, d0, _), (u1, d1, eased) in zip(keys, keys[1:]):
        if u <= u1:
            return d0 + (d1 - d0) * _ease((u - u0) / max(u1 - u0, 1e-9), eased)
    return keys[-1][1]


def funnel_depth(resp: ResponseParams, u: float, duration_s: float) -> float:
    """Depth of the oolemma's dent along the needle axis (px): it follows the tip until the breakage, then
    relaxes suddenly (time constant `relax_tau`) to its residual."""
    if u <= resp.u_break:
        return max(0.0, tip_depth(resp, u))
    decay = math.exp(-(u - resp.u_break) * duration_s / resp.relax_tau)
    return resp.break_depth * (resp.residual + (1 - resp.residual) * decay)


def source_coords(rx: np.ndarray, ry: np.ndarray, rho: np.ndarray, dent: np.ndarray, r_ool: np.ndarray,
                  width: float, drag: tuple[float, tuple[float, float], tuple[float, float], float, float] | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Where the ooplasm now at each pixel sat before the deformation (coordinates relative to the oocyte centre).

    The dent pushes the ooplasm inwards: a pixel at radius rho came from rho + dent * exp(-(r_ool - rho) / width),
    so the oolemma maps onto its undeformed place and the push fades over about the dent's width. After the
    breakage `drag` = (amount px, axis entry point (x, y) relative to the centre, axis direction, tip depth,
    needle half-width) pulls the ooplasm along the needle's path a little further in.
    """
    inward = np.clip(r_ool - rho, 0, None)
    scale = (rho + dent * np.exp(-inward / width)) / np.maximum(rho, 1e-3)
    sx, sy = rx * scale, ry * scale
    if drag is not None:
        amount, (ex, ey), (dx, dy), depth, half = drag
        along = (rx - ex) * dx + (ry - ey) * dy
        perp = -(rx - ex) * dy + (ry - ey) * dx
        w = (np.exp(-perp * perp / (8 * half * half)) * np.clip(along / (2 * half), 0, 1)
             * np.exp(-np.clip(along - depth, 0, None) / (3 * half)))
        sx, sy = sx - amount * w * dx, sy - amount * w * dy
    return sx.astype(np.float32), sy.astype(np.float32)
