"""Per-frame outputs of a video analysis ("sinks"): each receives every analysed frame once, in order.

A sink is any object with `write(frame, mask, features, shapes)` and `close(ok)` (`shapes`: the frame's
`morphometry.shapes.MaskShapes`, planes and outlines the features already traced, e.g. for an overlay); `close(ok=False)` is
called when the analysis failed (a sink then discards what it has half written). Sinks are built
by factories `factory(out_dir, info) -> sink`, so callers (e.g. the overlay video in
`oocyteseg.reports`) can add their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from oocyteseg.classes import LabelSet
from oocyteseg.io.atomic import write_json
from oocyteseg.io.images import write_image, write_mask
from oocyteseg.io.labelme import mask_to_labelme
from oocyteseg.io.video import NearestSampler, VideoFrame, VideoInfo
from oocyteseg.inference.mask_store import MaskChunkWriter
from oocyteseg.morphometry.shapes import MaskShapes


@dataclass(frozen=True)
class SinkContext:
    """What sinks know about the analysis: the output name (the case), the video as probed, the frame rate
    of the analysed sequence (the video's, or --fps) and the label set."""

    name: str
    video: VideoInfo
    fps: float
    labels: LabelSet


class FrameSink(Protocol):
    def write(self, frame: VideoFrame, mask: np.ndarray, features: dict, shapes: MaskShapes) -> None: ...

    def close(self, ok: bool) -> None: ...


SinkFactory = Callable[[Path, SinkContext], FrameSink]


class MaskSink:
    """Masks into chunked .npz files under out_dir/masks (see `mask_store`)."""

    def __init__(self, out_dir: Path, chunk_frames: int = 64):
        self.writer = MaskChunkWriter(out_dir / "masks", chunk_frames)

    def write(self, frame: VideoFrame, mask: np.ndarray, features: dict, shapes: MaskShapes) -> None:
        self.writer.write(frame.index, frame.time_s, mask)

    def close(self, ok: bool) -> None:
        if ok:
            self.writer.close()


class LabelmeSink:
    """Frames sampled at `fps` (`NearestSampler`) as PNG plus a LabelMe JSON of the predicted mask, for correction by a person.

    Files: out_dir/labelme/<name>_f<frame:05d>_t<seconds:08.3f>.png/.json (the naming that
    `oocyteseg features` and the phantom use, so corrected files go straight back into training),
    and the predicted index mask as out_dir/labelme_masks/<same stem>.png (kept out of the LabelMe
    folder, which should hold only the images and their JSON).
    """

    def __init__(self, out_dir: Path, info: SinkContext, fps: float = 1.0):
        self.folder = out_dir / "labelme"
        self.info = info
        self.sampler = NearestSampler(fps)
        self.written = 0

    def write(self, frame: VideoFrame, mask: np.ndarray, features: dict, shapes: MaskShapes) -> None:
        for kept, kept_mask in self.sampler.push((frame, mask), frame.time_s):
            self._write(kept, kept_mask)

    def _write(self, frame: VideoFrame, mask: np.ndarray) -> None:
        stem = f"{self.info.name}_f{frame.index:05d}_t{frame.time_s:08.3f}"
        write_image(self.folder / f"{stem}.png", frame.image, True)
        write_mask(self.folder.parent / "labelme_masks" / f"{stem}.png", mask, list(self.info.labels.colors), True)
        doc = mask_to_labelme(mask, self.info.labels, f"{stem}.png",
                              flags={"predicted": True, "corrected": False})
        write_json(self.folder / f"{stem}.json", doc)
        self.written += 1

    def close(self, ok: bool) -> None:
        pass
