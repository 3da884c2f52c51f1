"""Two measurable properties of GAN samples: the period-2 checkerboard of transposed convolutions, and
where the label maps put their spots (the region of the real training masks' inclusions)."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from oocyteseg.errors import OocytesegError


def checkerboard_energy(images: Iterable[np.ndarray], band: int = 2) -> float:
    """Share of the images' non-DC spectral power that lies at the period-2 (Nyquist) frequencies.

    A transposed convolution of stride 2 paints a pattern that repeats every 2 pixels, which shows in the
    2-D spectrum at (H/2, 0), (0, W/2) and (H/2, W/2). The share counts the power within `band` bins of
    those three points (a pattern modulated by the image content spreads a little around them), summed
    over the images and their channels, against all the power but the mean. Smooth micrographs score
    about 1e-4 or less; a visible checkerboard scores orders of magnitude more.

    Args:
        images: uint8 or float arrays (H, W) or (H, W, C), all of one size.
        band: half-width, in frequency bins, of the square counted around each Nyquist point.
    """
    nyquist = total = 0.0
    shape = None
    for image in images:
        x = np.asarray(image, np.float64)
        x = x[..., None] if x.ndim == 2 else x
        if shape is None:
            shape = x.shape
        elif x.shape != shape:
            raise OocytesegError(f"images differ in size ({x.shape} vs {shape})", fix="pass images of one size")
        x = x - x.mean(axis=(0, 1), keepdims=True)
        power = np.abs(np.fft.fft2(x, axes=(0, 1))) ** 2
        h, w = power.shape[:2]
        dy = np.abs(np.fft.fftfreq(h) * h)  # |frequency| in bins: 0 .. h/2
        dx = np.abs(np.fft.fftfreq(w) * w)
        near_y, near_x = np.abs(dy - h / 2) <= band, np.abs(dx - w / 2) <= band
        low_y, low_x = dy <= band, dx <= band
        select = (near_y[:, None] & (low_x | near_x)[None, :]) | (low_y[:, None] & near_x[None, :])
        nyquist += float(power[select].sum())
        total += float(power.sum())
    if shape is None:
        raise OocytesegError("no images to measure", fix="pass at least one image")
    return nyquist / total if total > 0 else 0.0


def spot_region(masks: Iterable[np.ndarray], margin_px: int = 4) -> np.ndarray:
    """Where the label maps may put inclusion spots: the convex hull of every foreground pixel of the
    training masks, widened by `margin_px` (uint8, 1 inside).

    Real inclusions lie in the ooplasm; the paper's sampler places spots anywhere in the 256x256 map, so
    a generator taught on real pairs must paint some inside the bright medium, where no real image has
    one. The hull of the annotated inclusions is the data's own answer to "where can a spot be" and
    needs no other annotation (a lab with an ooplasm mask can pass that instead: `synth generate
    --within`).
    """
    points, shape = [], None
    for mask in masks:
        m = np.asarray(mask)
        if shape is None:
            shape = m.shape[:2]
        elif m.shape[:2] != shape:
            raise OocytesegError(f"masks differ in size ({m.shape[:2]} vs {shape})", fix="pass masks of one size")
        ys, xs = np.nonzero(m)
        points.append(np.stack([xs, ys], axis=1))
    if shape is None:
        raise OocytesegError("no masks given for the spot region", fix="pass the training masks")
    pts = np.concatenate(points) if points else np.zeros((0, 2), int)
    if len(pts) < 3:
        raise OocytesegError(f"the training masks hold {len(pts)} inclusion pixel(s): too few to bound a region",
                             fix="annotate inclusions, or sample spots anywhere (no region)")
    region = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(region, cv2.convexHull(pts.astype(np.int32)), 1)
    if margin_px > 0:
        size = 2 * margin_px + 1
        region = cv2.dilate(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    return region
