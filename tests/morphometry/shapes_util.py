"""Analytic test shapes drawn with numpy/cv2 (sub-pixel vertices via fillPoly's shift)."""

from __future__ import annotations

import math

import cv2
import numpy as np

SHIFT = 4  # fillPoly fixed-point bits: vertices at 1/16 px


def disk(r: float, cx: float, cy: float, shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centre lies within r of (cx, cy)."""
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return ((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r).astype(np.uint8)


def ellipse(a: float, b: float, angle_deg: float, cx: float, cy: float, shape: tuple[int, int]) -> np.ndarray:
    """Filled ellipse with semi-axes a >= b, major axis at angle_deg from x (counter-clockwise on screen)."""
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    t = math.radians(angle_deg)
    dx, dy = xx - cx, -(yy - cy)  # y up for the angle convention
    u = dx * math.cos(t) + dy * math.sin(t)
    v = -dx * math.sin(t) + dy * math.cos(t)
    return ((u / a) ** 2 + (v / b) ** 2 <= 1).astype(np.uint8)


def fill_poly(mask: np.ndarray, pts: np.ndarray, value: int) -> None:
    """Rasterise a polygon given in pixel-centre coordinates (x, y)."""
    cv2.fillPoly(mask, [np.round(np.asarray(pts) * (1 << SHIFT)).astype(np.int32)], value, shift=SHIFT)


def needle_polygon(tip: tuple[float, float], angle_deg: float, length: float = 900.0,
                   tip_half_width: float = 3.0, back_half_width: float = 12.0) -> np.ndarray:
    """Tapered needle with a blunt end centred on `tip`, pointing along angle_deg (x right, y down)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    n = np.array([-u[1], u[0]])
    t = np.asarray(tip, dtype=float)
    b = t - u * length
    return np.array([t + n * tip_half_width, t - n * tip_half_width, b - n * back_half_width, b + n * back_half_width])


def lumen_polygon(tip: tuple[float, float], angle_deg: float, depth: float = 60.0,
                  half_width: float = 1.5) -> np.ndarray:
    """Lumen of a hollow needle: a channel open at the tip (extends 1 px past it)."""
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    n = np.array([-u[1], u[0]])
    t = np.asarray(tip, dtype=float) + u
    b = t - u * depth
    return np.array([t + n * half_width, t - n * half_width, b - n * half_width, b + n * half_width])


def icsi_scene(tip: tuple[float, float] = (300.0, 240.0), angle_deg: float = 0.0, hollow: bool = False,
               serc: bool = True, oocyte: bool = True, needle: bool = True,
               shape: tuple[int, int] = (480, 640)) -> np.ndarray:
    """Oocyte disk r=150 at (320, 240), sERC disk r=30 at (350, 200), needle drawn on top."""
    m = np.zeros(shape, dtype=np.uint8)
    if oocyte:
        m[disk(150, 320, 240, shape) > 0] = 1
    if serc:
        m[disk(30, 350, 200, shape) > 0] = 2
    if needle:
        fill_poly(m, needle_polygon(tip, angle_deg), 3)
        if hollow:
            lumen = np.zeros(shape, np.uint8)
            fill_poly(lumen, lumen_polygon(tip, angle_deg), 1)
            m[(lumen > 0) & (m == 3)] = 0
    return m
