"""Small synthetic videos for the video and ingestion tests (each frame encodes its index)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def frame_image(i: int, h: int = 48, w: int = 64) -> np.ndarray:
    """Frame i: a flat grey level 8*i (mod 256) with a white square whose position moves with i."""
    img = np.full((h, w, 3), (8 * i) % 256, np.uint8)
    x = (4 * i) % (w - 8)
    img[4:12, x:x + 8] = 255
    return img


def frame_number(image: np.ndarray) -> int:
    """i mod 32 for a decoded frame_image(i) (its grey level, read away from the moving square)."""
    return int(round(float(np.median(image[20:, :, :])) / 8)) % 32


def write_video(path: Path, n: int, fps: float = 10.0, codec: str = "mpeg4", fmt: str | None = None,
                times: list[float] | None = None, h: int = 48, w: int = 64) -> Path:
    """Encode n frames; `times` (s) gives a variable frame rate (needs a container with fine time base)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(path), "w", format=fmt)
    stream = container.add_stream(codec, rate=int(fps))
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
    if codec != "libx264":
        stream.bit_rate = 4_000_000
    if times is not None:
        stream.codec_context.time_base = Fraction(1, 1000)
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(frame_image(i, h, w), format="rgb24")
        if times is not None:
            frame.pts = int(round(times[i] * 1000))
            frame.time_base = Fraction(1, 1000)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path
