"""The one place the web app calls the analysis engine: `run_analysis(video, model, out_dir, progress)`.

Stand-in until the video analysis engine (`oocyteseg analyze`) lands: segments every frame with
TorchPredictor, measures it with morphometry and writes the same outputs the engine does (features
table, overlay video, index masks, LabelMe JSON, summary). The web app relies only on the returned
dict: {"summary": {...}, "files": {artefact: path}} with artefact names from `ARTEFACT_FILES`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

from oocyteseg.classes import ICSI
from oocyteseg.errors import OocytesegError
from oocyteseg.inference.predictor import TorchPredictor
from oocyteseg.io.atomic import write_json, write_table
from oocyteseg.io.images import read_image, write_image, write_mask
from oocyteseg.io.labelme import mask_to_labelme
from oocyteseg.io.video import VideoWriter, iter_frames
from oocyteseg.morphometry.table import features_table
from oocyteseg.morphometry.temporal import flag_jumps
from oocyteseg.reports.overlay import overlay_mask

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def run_analysis(video_path: str | os.PathLike, model_path: str | os.PathLike, out_dir: str | os.PathLike,
                 progress: Callable[[float], None]) -> dict[str, Any]:
    """Analyse one video (or one image) into `out_dir`; `progress` gets the fraction done (0..1).

    Returns {"summary": dict, "files": {name: path}}; names: features.csv, features.parquet,
    overlay.mp4 or overlay.png, masks (folder), labelme (folder), summary.json.
    """
    video_path, out = Path(video_path), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    predictor = TorchPredictor.from_checkpoint(model_path)
    is_image = video_path.suffix.lower() in IMAGE_SUFFIXES
    frames = _image_frames(video_path) if is_image else _video_frames(video_path)
    total = 1 if is_image else max(_frame_count(video_path), 1)
    case = video_path.stem
    overlay_name = "overlay.png" if is_image else "overlay.mp4"
    metas, masks = [], []
    writer = None if is_image else VideoWriter(out / overlay_name, fps=_fps(video_path)).__enter__()
    try:
        for index, time_s, image in frames:
            mask = predictor.predict([image])[0]
            name = f"{case}_f{index:06d}"
            write_mask(out / "masks" / f"{name}.png", mask, list(ICSI.colors))
            write_image(out / "labelme" / f"{name}.png", image)
            write_json(out / "labelme" / f"{name}.json", mask_to_labelme(mask, ICSI, f"{name}.png"))
            shown = overlay_mask(image, mask, ICSI)
            if writer is None:
                write_image(out / overlay_name, shown)
            else:
                writer.write(_even(shown))
            metas.append({"case": case, "video": video_path.name, "time_s": time_s, "frame_index": index})
            masks.append(mask)
            progress(min(len(masks) / total, 0.99))
    except BaseException as exc:
        if writer is not None:
            writer.__exit__(type(exc), exc, exc.__traceback__)
        raise
    if writer is not None:
        writer.__exit__(None, None, None)
    df = flag_jumps(features_table(zip(metas, masks)))
    write_table(df, out / "features.csv")
    write_table(df, out / "features.parquet")
    height, width = masks[0].shape if masks else (0, 0)
    summary = {"frames": len(df), "width": int(width), "height": int(height), "seconds": round(time.perf_counter() - start, 3),
               "qc_flagged": int((df["qc_jump"] | (df["reason"] != "")).sum()),
               "f_medians": {f: _median(df[f]) for f in ("f1", "f2", "f3", "f4")}}
    write_json(out / "summary.json", summary)
    progress(1.0)
    files = {"features.csv": out / "features.csv", "features.parquet": out / "features.parquet",
             overlay_name: out / overlay_name, "masks": out / "masks", "labelme": out / "labelme",
             "summary.json": out / "summary.json"}
    return {"summary": summary, "files": files}


def _video_frames(path: Path) -> Iterator[tuple[int, float, np.ndarray]]:
    for frame in iter_frames(path):
        yield frame.index, frame.time_s, frame.image


def _image_frames(path: Path) -> Iterator[tuple[int, float, np.ndarray]]:
    try:
        image = read_image(path)
    except OocytesegError:
        raise
    except Exception as exc:
        raise OocytesegError(f"not a readable image ({type(exc).__name__})", path, "upload a PNG, JPEG or TIFF") from exc
    yield 0, 0.0, image


def _frame_count(path: Path) -> int:
    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            if s.frames:
                return int(s.frames)
            if s.duration and s.average_rate:
                return int(float(s.duration * s.time_base) * float(s.average_rate))
    except Exception:  # the decoder reports unreadable files with a proper message
        return 0
    return 0


def _fps(path: Path) -> float:
    try:
        with av.open(str(path)) as c:
            rate = c.streams.video[0].average_rate
            return float(rate) if rate else 24.0
    except Exception:
        return 24.0


def _even(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return image[: h - h % 2, : w - w % 2]


def _median(values) -> float | None:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else None
