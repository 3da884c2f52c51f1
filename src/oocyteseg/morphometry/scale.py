"""Pixel thresholds that follow the frame size.

The morphometry's pixel constants (needle sizes and gaps, the sERC area for f1, the temporal jump
floors) were set on 480x640 frames. `frame_scale` gives a frame's linear scale relative to that
reference (the geometric mean of the two axes, so 960x1280 -> 2.0); lengths scale by s, areas by s²,
so a frame of the same scene at twice the resolution gives the same decisions. The scale is never
below 1: the constants are also digitisation floors (a 20 px blob has no usable axis, a 3 px gap is
noise, at any frame size), so frames smaller than 480x640 keep them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

REFERENCE_HW = (480, 640)  # (height, width) the pixel constants were chosen on


def frame_scale(shape: Sequence[int]) -> float:
    """Linear scale of a frame of `shape` ((height, width, ...)) relative to 480x640, at least 1."""
    h, w = int(shape[0]), int(shape[1])
    return max(1.0, float((h * w / (REFERENCE_HW[0] * REFERENCE_HW[1])) ** 0.5))


def scaled_length(px: float, shape: Sequence[int]) -> float:
    """A length of `px` pixels at 480x640, in pixels of a frame of `shape`."""
    return px * frame_scale(shape)


def scaled_area(px: float, shape: Sequence[int]) -> float:
    """An area of `px` pixels at 480x640, in pixels of a frame of `shape`."""
    return px * frame_scale(shape) ** 2
