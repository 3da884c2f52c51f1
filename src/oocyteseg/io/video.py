"""Video I/O with PyAV: streaming writer and reader (memory does not grow with video length)."""

from __future__ import annotations

import collections
import contextlib
import heapq
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.logging
import cv2
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


# RGB -> Y'CbCr, ITU-R BT.601 limited range (Y 16-235, Cb/Cr 16-240): what FFmpeg's swscale applies by
# default to RGB input of SD video. Rows: [R, G, B, offset] for cv2.transform.
_BT601_Y = np.array([[65.481, 128.553, 24.966, 16 * 255]], np.float32) / 255
_BT601_CBCR = np.array([[-37.797, -74.203, 112.0, 128 * 255], [112.0, -93.786, -18.214, 128 * 255]], np.float32) / 255


def rgb_to_yuv420p(image: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3), H and W even -> planar 4:2:0 (H * 3 / 2, W) uint8 in `av.VideoFrame`'s layout.

    BT.601 limited range, chroma from the mean of each 2x2 block, as swscale's default (within one level
    on smooth images; `tests/io/test_video.py`), in about a sixth of its time: swscale has no fast path
    from packed RGB24 here (3-4 ms per 480x640 frame), and OpenCV's COLOR_RGB2YUV_I420 takes the chroma of
    one pixel per block, which fringes the overlay's one-pixel outlines.
    """
    h, w = image.shape[:2]
    y = cv2.transform(image, _BT601_Y)
    cbcr = cv2.transform(cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA), _BT601_CBCR)
    out = np.empty((h * 3 // 2, w), np.uint8)
    flat, n = out.reshape(-1), h * w  # planes one after the other: Y (h x w), Cb, Cr (h/2 x w/2 each)
    flat[:n] = y.reshape(-1)
    flat[n:n + n // 4] = cbcr[..., 0].reshape(-1)
    flat[n + n // 4:] = cbcr[..., 1].reshape(-1)
    return out


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: RGB pixels, index in presentation order and time (s) since the first frame."""

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
        image = np.ascontiguousarray(image)
        if self.pix_fmt == "yuv420p" and image.shape[0] % 2 == 0 and image.shape[1] % 2 == 0:
            frame = av.VideoFrame.from_ndarray(rgb_to_yuv420p(image), format="yuv420p")
        else:  # odd sides: let the encoder's own conversion say what it needs
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
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


VIDEO_SUFFIXES = (".wmv", ".asf", ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".mpg", ".mpeg")

_OPEN_FIX = "check that the file is a complete WMV/MP4/AVI/MOV video (re-export or re-copy it)"
_EPS = 1e-6  # seconds: tolerance on sampling instants (float rounding only)


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (before decoding it)."""

    path: str
    container: str
    codec: str
    width: int
    height: int
    fps: float  # average (else guessed) frame rate; 0 if unknown
    duration_s: float  # NaN if the container does not say
    frames: int  # declared frame count (0 if unknown)


def _open(path: Path):
    if not path.is_file():
        raise OocytesegError("video not found", path, "check the path")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise OocytesegError(f"not a readable video ({exc.__class__.__name__})", path, _OPEN_FIX) from exc
    if not container.streams.video:
        container.close()
        raise OocytesegError("file has no video stream", path, "pass a video file")
    if container.format.name.endswith("_pipe") or container.format.name == "image2":
        container.close()  # FFmpeg reads a PNG/JPEG as a one-frame "video"
        raise OocytesegError(f"file is a still image ({container.format.name}), not a video", path,
                             "pass a video file; stills go through `oocyteseg dataset folder` or `labelme`")
    return container


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Container, codec, size, frame rate and duration of a video, without decoding it."""
    path = Path(path)
    with _open(path) as container:
        s = container.streams.video[0]
        duration = float(container.duration) / 1e6 if container.duration else float("nan")
        return VideoInfo(path=str(path), container=container.format.name, codec=s.codec_context.name,
                         width=int(s.codec_context.width), height=int(s.codec_context.height),
                         fps=float(s.average_rate or s.guessed_rate or 0), duration_s=duration, frames=int(s.frames or 0))


@contextlib.contextmanager
def _ffmpeg_errors() -> Iterator[list]:
    """Collect FFmpeg's error-level log lines (a damaged stream is logged, not raised, by most decoders)."""
    old, old_skip = av.logging.get_level(), av.logging.get_skip_repeated()
    av.logging.set_level(av.logging.ERROR)
    av.logging.set_skip_repeated(False)  # the same damage in a second file must be reported too
    try:
        with av.logging.Capture() as logs:
            yield logs
    finally:
        av.logging.set_level(old)
        av.logging.set_skip_repeated(old_skip)


# Frames the decoder may output before their timestamps can be trusted: ASF (WMV) stores one time per
# packet, so H.264 with B-frames in ASF comes out in the right order with shuffled timestamps. The
# timestamps of a window of this many frames are sorted (H.264 reorders at most 16 frames).
REORDER_WINDOW = 16


def _decode(path: Path, strict: bool) -> Iterator[tuple[int, float, "av.VideoFrame"]]:
    """(index, seconds since the first frame, frame) in presentation order.

    At most REORDER_WINDOW + 1 decoded frames are held, so memory does not grow with video length.
    """
    pending: collections.deque = collections.deque()
    times: list[float] = []  # heap of raw presentation times (s) of the pending frames
    index, raw_last, t0, t = 0, None, None, 0.0
    with _ffmpeg_errors() as logs, _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or 0) or 25.0
        tb = float(stream.time_base) if stream.time_base else 0.0
        try:
            for frame in container.decode(stream):
                # no timestamp (some AVI): one frame period after the previous one
                raw = frame.pts * tb if frame.pts is not None and tb else (
                    0.0 if raw_last is None else raw_last + 1.0 / rate)
                raw_last = raw if raw_last is None else max(raw_last, raw)
                heapq.heappush(times, raw)
                pending.append(frame)
                if len(pending) > REORDER_WINDOW:
                    t_raw = heapq.heappop(times)
                    t0 = t_raw if t0 is None else t0
                    t = t_raw - t0
                    yield index, t, pending.popleft()
                    index += 1
        except av.error.FFmpegError as exc:
            raise OocytesegError(f"video is corrupt or truncated after frame {index + len(pending)} "
                                 f"({exc.__class__.__name__})", path, "re-export or re-copy the video") from exc
        while pending:
            t_raw = heapq.heappop(times)
            t0 = t_raw if t0 is None else t0
            t = t_raw - t0
            yield index, t, pending.popleft()
            index += 1
        errors = [f"[{name}] {msg.strip()}" for level, name, msg in logs if level <= av.logging.ERROR]
        declared = float(container.duration) / 1e6 if container.duration else 0.0
    if index == 0:
        raise OocytesegError("video has zero decodable frames", path, "re-export or re-copy the video")
    if strict and errors:
        raise OocytesegError(f"video is damaged: {len(errors)} decoder error(s), first: {errors[0]}", path,
                             "re-export or re-copy the video")
    if strict and declared and declared - (t + 1.0 / rate) > max(0.5, 3.0 / rate):
        raise OocytesegError(f"video is truncated: frames stop at {t:.2f} s of {declared:.2f} s", path,
                             "re-export or re-copy the video")


def iter_frames(path: str | os.PathLike, *, strict: bool = True) -> Iterator[VideoFrame]:
    """Decode every frame (streaming; memory does not grow with video length).

    `time_s` counts from the first frame's presentation time. With `strict`, a video that the decoder
    reports as damaged, that stops early, or that has no frames raises OocytesegError naming the file
    (after the frames that did decode have been yielded).
    """
    for index, t, frame in _decode(Path(path), strict):
        yield VideoFrame(index=index, time_s=t, image=frame.to_ndarray(format="rgb24"))


class NearestSampler:
    """The one rule for sampling N frames per second: for each instant k/fps (k = 0, 1, ...) the item whose
    presentation time is nearest (on a tie, the later one); fps None keeps every item.

    Feed items in time order with `push(item, time_s)`; it returns the items decided so far (each at
    most once, in order). Instants after the last item are not sampled, and an item nearest to several
    instants (fps above the video's rate, gaps) is returned once. Only the previous item is held.
    """

    def __init__(self, fps: float | None):
        if fps is not None and not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        self.fps = fps
        self._k = 0  # next instant
        self._n = 0  # items pushed
        self._prev: tuple[object, float, int] | None = None  # (item, time, serial) of the previous item
        self._last = -1  # serial of the item returned last

    def push(self, item, time_s: float) -> list:
        """Items to keep now that `item` (at `time_s`) has arrived."""
        if self.fps is None:
            return [item]
        cur, kept = (item, time_s, self._n), []
        while self._k / self.fps <= time_s + _EPS:
            tk = self._k / self.fps
            prev = self._prev
            choice = prev if prev is not None and tk - prev[1] < time_s - tk else cur
            if choice[2] != self._last:
                self._last = choice[2]
                kept.append(choice[0])
            self._k += 1
        self._prev, self._n = cur, self._n + 1
        return kept


def sample_frames(path: str | os.PathLike, fps: float | None, *, strict: bool = True) -> Iterator[VideoFrame]:
    """Frames at the instants k/fps by presentation time (`NearestSampler`); fps None keeps every frame.

    Timestamp rounding (ASF stores milliseconds) and variable frame rates are handled; only the kept
    frames are converted to RGB, and memory does not grow with video length.
    """
    if fps is not None and not fps > 0:
        raise OocytesegError(f"sampling rate must be > 0 frames/s, got {fps}", path, "pass e.g. --fps 1")
    sampler = NearestSampler(fps)
    for decoded in _decode(Path(path), strict):
        for index, t, frame in sampler.push(decoded, decoded[1]):
            yield VideoFrame(index=index, time_s=t, image=frame.to_ndarray(format="rgb24"))
