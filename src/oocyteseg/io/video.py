"""Video I/O with PyAV: streaming writer and reader (memory does not grow with video length)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import atomic_path

# container suffix -> (codec, pixel format). WMV uses the WMV2 codec (msmpeg4 family) that
# FFmpeg both encodes and decodes; labs' WMV3 files decode through the same reader.
CODECS = {
    ".mp4": ("libx264", "yuv420p"),
    ".mov": ("libx264", "yuv420p"),
    ".avi": ("mpeg4", "yuv420p"),
    ".wmv": ("wmv2", "yuv420p"),
}


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: RGB pixels, index in decode order and presentation time in seconds."""

    index: int
    time_s: float
    image: np.ndarray


class VideoWriter:
    """Write RGB uint8 frames to a video file, atomically (temp file renamed on close).

    Use as a context manager: ``with VideoWriter(path, fps=24) as w: w.write(frame)``.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 24.0, overwrite: bool = True,
                 quality: int = 18):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in CODECS:
            raise OocytesegError(f"unsupported video format {suffix!r}", path,
                                 f"use one of {', '.join(sorted(CODECS))}")
        self.codec, self.pix_fmt = CODECS[suffix]
        self.fps = Fraction(fps).limit_denominator(1001)
        self.quality = quality
        self._ctx = atomic_path(self.path, overwrite)
        self._container = None
        self._stream = None

    def __enter__(self) -> "VideoWriter":
        self._tmp = self._ctx.__enter__()
        fmt = {".wmv": "asf", ".mov": "mov", ".mp4": "mp4", ".avi": "avi"}[self.path.suffix.lower()]
        self._container = av.open(str(self._tmp), mode="w", format=fmt)
        return self

    def write(self, image: np.ndarray) -> None:
        """Append one RGB frame (H, W, 3) uint8; H and W must be even for 4:2:0 codecs."""
        if self._stream is None:
            h, w = image.shape[:2]
            self._stream = self._container.add_stream(self.codec, rate=self.fps)
            self._stream.width, self._stream.height, self._stream.pix_fmt = w, h, self.pix_fmt
            if self.codec == "libx264":
                self._stream.options = {"crf": str(self.quality), "preset": "veryfast"}
            else:
                self._stream.bit_rate = 8_000_000
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._stream is not None and exc_type is None:
                for packet in self._stream.encode():
                    self._container.mux(packet)
        finally:
            self._container.close()
            self._ctx.__exit__(exc_type, exc, tb)


def iter_frames(path: str | os.PathLike) -> Iterator[VideoFrame]:
    """Decode a video frame by frame (streaming); corrupt input raises OocytesegError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("video not found", path, "check the path")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise OocytesegError(f"not a readable video ({exc.__class__.__name__})", path,
                             "check that the file is a complete WMV/MP4/AVI/MOV video") from exc
    with container:
        if not container.streams.video:
            raise OocytesegError("file has no video stream", path, "pass a video file")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = 0
        try:
            for frame in container.decode(stream):
                t = float(frame.pts * stream.time_base) if frame.pts is not None else index / float(stream.average_rate or 1)
                yield VideoFrame(index=index, time_s=t, image=frame.to_ndarray(format="rgb24"))
                index += 1
        except av.error.FFmpegError as exc:
            raise OocytesegError(f"video is corrupt or truncated after frame {index} ({exc.__class__.__name__})",
                                 path, "re-export or re-copy the video") from exc
        if index == 0:
            raise OocytesegError("video has zero decodable frames", path, "re-export or re-copy the video")
