"""Exact rasterisation of the shapes the label-map samplers draw: disks, ellipses, tapered needles.

A pixel belongs to a shape when its centre lies inside the continuous shape, so areas follow the
geometry (a disk of diameter d covers about pi*d^2/4 pixels) and nothing depends on a drawing library.
"""

from __future__ import annotations

import math

import numpy as np


def disk_footprint(diameter: int) -> np.ndarray:
    """Boolean (d, d) footprint of a disk of integer diameter `d` centred in its bounding box.

    Pixel centres sit at half-integer offsets from the box centre for even `d` and at integer
    offsets for odd `d`; a pixel is inside when its centre is within `d / 2` of the box centre.
    The equivalent diameter sqrt(4 * area / pi) of the footprint is within 0.4 px of `d` for d = 2..7.
    """
    if diameter < 1:
        raise ValueError(f"disk diameter must be >= 1, got {diameter}")
    offsets = np.arange(diameter) - (diameter - 1) / 2.0
    yy, xx = np.meshgrid(offsets, offsets, indexing="ij")
    return yy**2 + xx**2 <= (diameter / 2.0) ** 2


def equivalent_diameter(area: float) -> float:
    """Diameter of the disk whose area equals `area` (pixels)."""
    return math.sqrt(4.0 * area / math.pi)


def ellipse_mask(shape: tuple[int, int], center: tuple[float, float], semi_axes: tuple[float, float],
                 angle_deg: float) -> np.ndarray:
    """Boolean mask of the pixels whose centres lie inside a rotated ellipse.

    Args:
        shape: (height, width) of the mask.
        center: (y, x) of the ellipse centre in pixel coordinates (pixel centres are integers).
        semi_axes: (a, b): semi-axis along the rotated x direction, then along the rotated y direction.
        angle_deg: rotation of the `a` axis from the image x axis, counter-clockwise on screen.
    """
    height, width = shape
    cy, cx = center
    a, b = semi_axes
    theta = math.radians(angle_deg)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    dx, dy = xx - cx, cy - yy  # y grows downwards on screen; flip it so angles are counter-clockwise
    u = dx * cos_t + dy * sin_t
    v = -dx * sin_t + dy * cos_t
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def tapered_band_mask(shape: tuple[int, int], tip: tuple[float, float], direction: tuple[float, float],
                      tip_width: float, base_width: float, taper_length: float) -> np.ndarray:
    """Boolean mask of a needle: a band starting at `tip` and running along `direction` without end.

    Its width grows linearly from `tip_width` at the tip to `base_width` after `taper_length` pixels,
    then stays constant. Pixels behind the tip (negative distance along `direction`) are outside.

    Args:
        shape: (height, width) of the mask.
        tip: (y, x) of the tip.
        direction: (dy, dx) pointing from the tip towards the needle's base; normalised here.
    """
    height, width = shape
    dy, dx = direction
    norm = math.hypot(dy, dx)
    if norm == 0:
        raise ValueError("needle direction must be non-zero")
    dy, dx = dy / norm, dx / norm
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    ry, rx = yy - tip[0], xx - tip[1]
    along = ry * dy + rx * dx
    across = np.abs(-ry * dx + rx * dy)
    frac = np.clip(along / max(taper_length, 1e-6), 0.0, 1.0)
    half_width = 0.5 * (tip_width + (base_width - tip_width) * frac)
    return (along >= 0.0) & (across <= half_width)
