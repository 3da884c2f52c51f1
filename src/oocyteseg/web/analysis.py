"""The one place the web app calls the analysis engine: `run_analysis(video, model, out_dir, progress)`.

It runs the engine behind `oocyteseg analyze` (oocyteseg.pipelines.analysis.run_analysis) on one
video or image (an image is analysed as a one-frame video) and tells the web app which files it
made. The web app relies only on the returned dict: {"summary": {...}, "files": {artefact: path}}.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from oocyteseg.classes import LabelSet, labels_from_extra
from oocyteseg.errors import OocytesegError
from oocyteseg.inference.mask_store import iter_masks
from oocyteseg.inference.video_analysis import AnalyzeConfig
from oocyteseg.io.images import read_image, write_mask
from oocyteseg.io.video import VideoWriter
from oocyteseg.pipelines.analysis import run_analysis as analyse_videos
from oocyteseg.reports.html_report import build_report

# Engine output (in the case folder) -> artefact name the web app serves. Folders are zipped.
_OUTPUTS = {"features.csv": "features.csv", "features.parquet": "features.parquet", "overlay.mp4": "overlay.mp4",
            "summary.json": "summary.json", "report.html": "report.html", "masks": "masks", "labelme": "labelme",
            "injection.csv": "injection.csv", "events.csv": "events.csv", "injection.json": "injection.json"}


def run_analysis(video_path: str | os.PathLike, model_path: str | os.PathLike, out_dir: str | os.PathLike,
                 progress: Callable[[float], None]) -> dict[str, Any]:
    """Analyse one video (or image) into `out_dir`; `progress` gets the fraction done (0..1).

    Returns {"summary": the engine's summary, "files": {name: path}} (features tables, overlay video,
    masks as index PNGs, LabelMe files, summary, HTML report); raises OocytesegError (one line) when
    the video cannot be analysed.
    """
    video_path, out = Path(video_path), Path(out_dir)
    video_path = still_as_video(video_path, out)

    def on_frames(_what: str, done: int, total: int) -> None:
        progress(min(done / total, 0.99) if total else 0.0)

    outcome = analyse_videos([video_path], model_path, out, AnalyzeConfig(labelme=True), progress=on_frames)
    if outcome.failed or not outcome.done:
        message = outcome.failed[0][1] if outcome.failed else "the analysis produced no result"
        raise OocytesegError(message)
    result = outcome.done[0]
    summary = dict(result.summary)
    try:  # the numbers stand without the report: a report that fails is said on the page, not fatal
        build_report(out, result.out_dir / "report.html", overwrite=True)
    except OocytesegError as exc:
        summary["report_error"] = exc.one_line()
    files = {name: result.out_dir / src for src, name in _OUTPUTS.items() if (result.out_dir / src).exists()}
    if "masks" in files:  # the engine's lossless chunks, as index PNGs any image viewer opens
        labels = labels_from_extra(summary.get("model"))
        files["masks"] = masks_to_png(files["masks"], out / "masks_png", result.name, labels)
    progress(1.0)
    return {"summary": summary, "files": files}


def still_as_video(path: Path, out: Path) -> Path:
    """An image becomes a one-frame MP4 (same stem) so the video engine can analyse it; videos pass through."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.verify()
    except (UnidentifiedImageError, OSError):
        return path  # not an image: the engine reads it as a video (or reports why it cannot)
    image = read_image(path)
    h, w = image.shape[:2]
    if h % 2 or w % 2:  # 4:2:0 video needs even sizes: repeat the last row/column
        image = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    target = out.parent / "still-as-video" / f"{path.stem}.mp4"  # outside the engine's output folder
    with VideoWriter(target, fps=1.0, overwrite=True) as writer:
        writer.write(image)
    return target


def masks_to_png(chunks: Path, folder: Path, case: str, labels: LabelSet) -> Path:
    """Write every mask of a chunk folder as `<case>_f<frame>_t<seconds>.png` (palette index PNG)."""
    for index, time_s, mask in iter_masks(chunks):
        write_mask(folder / f"{case}_f{index:05d}_t{time_s:08.3f}.png", mask, list(labels.colors))
    return folder
