"""The lab's video analysis in one call: predictor + streaming analysis + overlay videos (what
`oocyteseg analyze` runs)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from oocyteseg.errors import OocytesegError
from oocyteseg.inference.batch import BatchOutcome, Progress, analyze_videos
from oocyteseg.inference.loading import load_predictor
from oocyteseg.inference.tip_refine import CROP, TipRefinedPredictor
from oocyteseg.inference.video_analysis import AnalyzeConfig
from oocyteseg.reports.overlay_video import overlay_sink


def run_analysis(inputs: Sequence[str | os.PathLike], model: str | os.PathLike, out: str | os.PathLike,
                 config: AnalyzeConfig | None = None, *, backend: str | None = None,
                 size: tuple[int, int] | None = None, threads: int | None = None, case: str | None = None,
                 device: str | None = "auto",
                 shard: tuple[int, int] = (1, 1), overwrite: bool = False, overlay: bool = True,
                 tip_model: str | os.PathLike | None = None, tta: str | None = None,
                 progress: Progress | None = None, command: str | None = None) -> BatchOutcome:
    """Analyse videos (files or folders) with `model` (.pt checkpoint or .onnx) into `out`.

    Per video, OUT/<case>/<video>/ holds masks/, features.csv/.parquet, overlay.mp4 (unless overlay=False),
    labelme/ (config.labelme), summary.json/.md, analysis.json and done.json; OUT/summary.csv one row
    per video. See `oocyteseg.inference.analyze_videos` for cases (`case`), shard, resume and errors.
    `tip_model`: a model trained on native-resolution crops that refines each frame's needle tip
    (`inference.tip_refine`, `with_tip_model`). `tta`: test-time augmentation of the main model
    (`data.preprocess.TTA_MODES`; "flip" doubles its time).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = config or AnalyzeConfig()
    threads = threads or threads_per_worker(config.workers)
    predictor, info = load_predictor(model, backend, size, threads, onnx_dir=out, device=device, tta=tta)
    if tip_model is not None:
        predictor, info = with_tip_model(predictor, info, tip_model, threads, out, device)
    return analyze_videos(inputs, predictor, out, config, case=case, shard=shard,
                          overwrite=overwrite, sink_factories=[overlay_sink] if overlay else [], progress=progress,
                          model_info=info, command=command)


def with_tip_model(predictor, info: dict, tip_model: str | os.PathLike, threads: int | None,
                   onnx_dir: Path, device: str | None) -> tuple[TipRefinedPredictor, dict]:
    """`predictor` with its needle tips refined by `tip_model` at the crop size: a checkpoint runs with the
    main model's backend (exported at the crop size for ONNX Runtime); an ONNX file must have been exported
    at it."""
    onnx_file = Path(tip_model).suffix.lower() == ".onnx"
    crop_predictor, tip_info = load_predictor(tip_model, "onnx" if onnx_file else info["backend"],
                                              None if onnx_file else CROP, threads, onnx_dir=onnx_dir, device=device)
    if tuple(crop_predictor.size or ()) != CROP:
        raise OocytesegError(f"the tip model runs at {crop_predictor.size}, not at the {CROP[0]}x{CROP[1]} crop",
                             tip_model, f"give its checkpoint (.pt), or export it with --size {CROP[0]} {CROP[1]}")
    return TipRefinedPredictor(predictor, crop_predictor), {**info, "tip_model": tip_info}


def threads_per_worker(workers: int) -> int | None:
    """Intra-op threads for each of `workers` segmentation workers: the cores this process may use, shared
    (None, the library default, with one worker)."""
    if workers <= 1:
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // workers)


def run_stills(inputs: Sequence[str | os.PathLike], model: str | os.PathLike, out: str | os.PathLike, *,
               backend: str | None = None, size: tuple[int, int] | None = None, threads: int | None = None,
               device: str | None = "auto", case: str | None = None, overwrite: bool = False,
               pixel_size_um: float | None = None, tta: str | None = None, progress: Progress | None = None):
    """Analyse the still images among `inputs` (files, or folders searched recursively) into OUT/stills/
    (`oocyteseg.reports.stills`); returns its outcome, or None when the inputs hold no image."""
    from oocyteseg.reports.stills import analyze_images, find_images

    images = find_images(inputs, exclude=out)
    if not images:
        return None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    predictor, info = load_predictor(model, backend, size, threads, onnx_dir=out, device=device, tta=tta)
    return analyze_images(images, predictor, out, case=case, overwrite=overwrite, pixel_size_um=pixel_size_um,
                          model_info=info, progress=progress)
