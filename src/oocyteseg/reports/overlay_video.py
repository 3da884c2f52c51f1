"""The overlay video of an analysis: every analysed frame with its classes in colour, the oocyte centre,
the needle tip and f1..f4 as text (a sink of `oocyteseg.inference.analyze_video`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oocyteseg.io.video import VideoFrame, VideoWriter
from oocyteseg.inference.sinks import SinkContext
from oocyteseg.morphometry.shapes import MaskShapes
from oocyteseg.reports.overlay import annotate_frame

OVERLAY_FILE = "overlay.mp4"


class OverlayVideoSink:
    """Writes out_dir/overlay.mp4 (H.264) streaming; the file appears only when the video is complete."""

    def __init__(self, out_dir: Path, info: SinkContext, quality: int = 23):
        self.info = info
        self.writer = VideoWriter(out_dir / OVERLAY_FILE, fps=info.fps, overwrite=True, quality=quality)
        self._open = False

    def write(self, frame: VideoFrame, mask: np.ndarray, features: dict, shapes: MaskShapes) -> None:
        outlines = {c: shapes.outlines(c) for c in range(1, self.info.labels.num_classes)}
        image = annotate_frame(frame.image, mask, self.info.labels, features, frame.time_s, outlines)
        h, w = image.shape[:2]
        if h % 2 or w % 2:  # 4:2:0 video needs even sides
            image = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if not self._open:
            self.writer.__enter__()
            self._open = True
        self.writer.write(image)

    def close(self, ok: bool) -> None:
        if self._open:
            if ok:
                self.writer.__exit__(None, None, None)
            else:
                err = RuntimeError("analysis failed")
                self.writer.__exit__(RuntimeError, err, None)


def overlay_sink(out_dir: Path, info: SinkContext) -> OverlayVideoSink:
    """Sink factory for `analyze_video(..., sink_factories=[overlay_sink])`."""
    return OverlayVideoSink(out_dir, info)
