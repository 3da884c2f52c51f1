"""Analyse one video, streaming: decode -> segment -> measure -> write, each stage in its own thread.

Outputs in the video's folder (see docs/analysis.md): masks/chunk_*.npz, features.csv/.parquet
(one row per analysed frame: time, f1-f4, extras, `reason`, temporal `qc`/`qc_jump` flags and a
smoothed tip), labelme/ (with `labelme=True`), whatever extra sinks write (the overlay video),
injection.csv/events.csv/injection.json (`inference.injection_outputs`, when the label set has oocyte and
needle classes) and summary.json/.md. Memory is bounded by the queue sizes and one mask chunk, whatever the length;
only the features rows (a few hundred bytes per frame) are kept until the end, for the temporal QC.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oocyteseg.data.preprocess import size_warning
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_table
from oocyteseg.io.video import VideoFrame, VideoInfo, probe_video, sample_frames
from oocyteseg.inference.injection_outputs import InjectionReader
from oocyteseg.inference.pipeline import Parallel, pipelined
from oocyteseg.inference.sinks import LabelmeSink, MaskSink, SinkContext, SinkFactory
from oocyteseg.inference.summary import summarise, write_summary
from oocyteseg.morphometry.measure import mask_features
from oocyteseg.morphometry.scale import frame_scale
from oocyteseg.morphometry.shapes import MaskShapes
from oocyteseg.morphometry.temporal import flag_jumps, smooth_trajectory

Progress = Callable[[int], None]  # called with the number of frames just finished
JUMP_COLUMNS = ("f1", "f2", "f3", "f4")  # judged one by one; the tip by the 2-D rule (`finish_table`)
# Reasons that only say a structure is not in the frame (true of many real frames): not QC problems.
ABSENCES = frozenset({"no_serc", "no_needle", "no_inclusion"})


@dataclass
class AnalyzeConfig:
    """Settings of a video analysis (written to analysis.json next to the results).

    Attributes:
        fps: analyse N frames per second (for each instant k/N s the nearest frame, `io.video.NearestSampler`);
            None = every frame.
        batch_size: frames segmented together.
        chunk_frames: masks per stored chunk.
        queue_size: items (batches) each queue between two pipeline threads may hold.
        workers: batches segmented at once, each in its own thread (`inference.pipeline.Parallel`); the
            predictor's intra-op threads (`--threads`) are per worker. Two workers of one thread each
            analyse 14 % more frames per second than one worker of two threads on a 2-core CPU
            (docs/performance.md, `benchmarks/analyze_workers.py`).
        labelme: also write PNG + LabelMe JSON of frames sampled at `labelme_fps` (nearest frames, as `fps`).
        labelme_fps: LabelMe frames per second of video.
        pixel_size_um: micrometres per pixel (adds *_um columns), or None.
    """

    fps: float | None = None
    batch_size: int = 4
    chunk_frames: int = 64
    queue_size: int = 4
    workers: int = 2
    labelme: bool = False
    labelme_fps: float = 1.0
    pixel_size_um: float | None = None

    def __post_init__(self) -> None:
        if self.fps is not None and not self.fps > 0:
            raise OocytesegError(f"bad --fps {self.fps!r}", fix="use --fps all (every frame) or a positive number, e.g. --fps 4")
        if self.batch_size < 1 or self.workers < 1 or not self.labelme_fps > 0:
            raise OocytesegError("--batch-size and --workers must be >= 1 and --labelme-fps > 0")
        if self.pixel_size_um is not None and not self.pixel_size_um > 0:
            raise OocytesegError(f"--pixel-size must be > 0, got {self.pixel_size_um}", fix="give micrometres per pixel")


@dataclass
class VideoResult:
    """What one video's analysis produced."""

    name: str
    video: Path
    out_dir: Path
    frames: int
    seconds: float
    summary: dict[str, Any]


def _batches(path: Path, fps: float | None, size: int) -> Iterator[list[VideoFrame]]:
    batch: list[VideoFrame] = []
    for frame in sample_frames(path, fps):
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def analyze_video(video: Path, name: str, predictor: Any, out_dir: Path, config: AnalyzeConfig,
                  sink_factories: Sequence[SinkFactory] = (), progress: Progress | None = None,
                  model_info: dict | None = None, info: VideoInfo | None = None) -> VideoResult:
    """Analyse `video` into `out_dir` (which must be empty or new); returns the summary.

    Args:
        video: the input video.
        name: the case name written in the table (and used for file names).
        predictor: anything with `predict(images, batch_size) -> masks` and `labels` (Torch/OnnxPredictor).
        sink_factories: extra per-frame outputs (e.g. the overlay video from `oocyteseg.reports`).
        progress: called with the number of frames finished after each batch.
        info: the video's `probe_video` result when the caller has it already (probed once per video).
    """
    start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    info = info or probe_video(video)
    video_fps = info.fps
    fps_out = float(config.fps) if config.fps else (video_fps or 24.0)
    context = SinkContext(name=name, video=info, fps=fps_out, labels=predictor.labels)
    sinks = [MaskSink(out_dir, config.chunk_frames)]
    if config.labelme:
        sinks.append(LabelmeSink(out_dir, context, config.labelme_fps))
    sinks += [factory(out_dir, context) for factory in sink_factories]
    labels = predictor.labels
    pixel_size = config.pixel_size_um if config.pixel_size_um is not None else labels.pixel_size_um
    injection = InjectionReader(labels, pixel_size, fps_out)  # the one features thread sees frames in order

    def segment(batch: list[VideoFrame]) -> tuple[list[VideoFrame], list[np.ndarray]]:
        return batch, predictor.predict([f.image for f in batch], batch_size=len(batch))

    def features(item: tuple[list[VideoFrame], list[np.ndarray]]):
        batch, masks = item
        shapes = [MaskShapes(m) for m in masks]  # traced once per frame, shared with the sinks (overlay)
        rows = [{"case": name, "video": str(video), "frame_index": f.index, "time_s": round(f.time_s, 6),
                 **mask_features(m, labels, pixel_size, sh)} for f, m, sh in zip(batch, masks, shapes)]
        for f, m, sh in zip(batch, masks, shapes):
            injection.update(f.index, f.time_s, m, sh)
        for sh in shapes:
            sh.drop_planes()  # only the outlines travel on to the sinks
        return batch, masks, rows, shapes

    chunks: list[pd.DataFrame] = []
    pending: list[dict] = []
    shape: tuple[int, ...] = ()
    ok = False
    stream = pipelined(_batches(video, config.fps, config.batch_size),
                       [Parallel(segment, config.workers) if config.workers > 1 else segment, features],
                       maxsize=config.queue_size, name=f"analyze-{name}")
    try:
        for batch, masks, rows, shapes in stream:
            shape = shape or masks[0].shape
            for frame, mask, row, frame_shapes in zip(batch, masks, rows, shapes):
                for sink in sinks:
                    sink.write(frame, mask, row, frame_shapes)
            pending += rows
            if len(pending) >= config.chunk_frames:  # compact rows into a DataFrame chunk
                chunks.append(pd.DataFrame(pending))
                pending = []
            if progress:
                progress(len(batch))
        ok = True
    finally:
        stream.close()  # stops the pipeline's threads at once, also when a sink raised
        for sink in sinks:
            sink.close(ok)
    if pending:
        chunks.append(pd.DataFrame(pending))
    table = finish_table(pd.concat(chunks, ignore_index=True), frame_scale(shape) if shape else 1.0)
    write_table(table, out_dir / "features.csv")
    write_table(table, out_dir / "features.parquet")
    injection_summary = injection.write(out_dir)
    seconds = time.perf_counter() - start
    summary = summarise(table, name=name, video=video, seconds=seconds, fps_video=video_fps,
                        fps_analysed=fps_out, model=model_info or {}, out_dir=out_dir,
                        frame_size=tuple(int(v) for v in shape))
    spec = getattr(predictor, "spec", None)
    warning = size_warning(tuple(shape[:2]), spec) if spec is not None and shape else None
    if warning:
        summary["size_warning"] = warning
    summary["pixel_size_um"] = pixel_size  # the calibration the _um columns used (None: pixels only)
    summary["injection"] = injection_summary
    write_summary(summary, out_dir)
    return VideoResult(name, video, out_dir, len(table), seconds, summary)


def finish_table(df: pd.DataFrame, scale: float = 1.0) -> pd.DataFrame:
    """Order the columns and add the temporal QC (`qc`, `qc_jump`) and the smoothed tip; `scale` is the
    frames' `frame_scale` (pixel floors are for 480x640).

    f1-f4 are judged one by one (`flag_jumps`); the tip by the 2-D rule of `smooth_trajectory` (`jump:tip`),
    run once: the same pass replaces the jumps before smoothing.
    """
    if len(df):
        df = flag_jumps(df, columns=tuple(c for c in JUMP_COLUMNS if c in df.columns), scale=scale)
    if "tip_x" in df.columns and len(df):
        smooth = smooth_trajectory(df["time_s"], df[["tip_x", "tip_y"]].to_numpy(float), scale=scale)
        # smooth_trajectory sorts by time; frames are already in time order, so rows align
        df["tip_x_smooth"] = smooth["x_smooth"].to_numpy()
        df["tip_y_smooth"] = smooth["y_smooth"].to_numpy()
        tip = smooth["qc_jump"].to_numpy()
        df.loc[tip, "qc"] = [f"{q};jump:tip" if q else "jump:tip" for q in df.loc[tip, "qc"]]
        df["qc_jump"] = df["qc_jump"] | tip
    df["reason"] = df["reason"].fillna("").astype(str)
    df["qc_flagged"] = df["qc_jump"] | df["reason"].map(is_problem)
    first = ["case", "video", "frame_index", "time_s", "f1", "f2", "f3", "f4"]
    last = ["reason", "qc", "qc_jump", "qc_flagged"]
    middle = [c for c in df.columns if c not in first and c not in last]
    return df[[c for c in first if c in df.columns] + middle + last]


def is_problem(reason: str) -> bool:
    """True when a `reason` names a problem, not just a structure absent from the frame (no sERC...)."""
    return any(r and r not in ABSENCES for r in reason.split(";"))
