"""`oocyteseg analyze`, `oocyteseg export` and `oocyteseg report`: video analysis for the lab."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.frames_cmd import parse_fps
from oocyteseg.cli.options import tta_option
from oocyteseg.cli.progress import progress_callback
from oocyteseg.errors import OocytesegError
from oocyteseg.inference.batch import parse_shard
from oocyteseg.inference.onnx_predictor import export_checkpoint_onnx
from oocyteseg.inference.video_analysis import AnalyzeConfig


def _command_line(ctx: typer.Context) -> str:
    """The command as run, rebuilt from the parsed parameters (so it can be pasted to re-run)."""
    parts = ["oocyteseg", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        values = [str(v) for v in (value if isinstance(value, list | tuple) else [value])]
        is_flag = bool(getattr(param, "is_flag", False))
        if value is None or value == () or (is_flag and not value):
            continue
        if param.param_type_name == "argument":
            parts += values
        elif is_flag:
            parts.append(param.opts[0])
        else:
            parts += [param.opts[0], *values]
    return shlex.join(parts)


def analyze(
    ctx: typer.Context,
    videos: list[Path] = typer.Argument(..., help="Video files, still images (PNG/JPEG/TIFF/BMP) and/or folders "
                                                  "(searched recursively)."),
    model: Path = typer.Option(..., "--model", help="Checkpoint (.pt) or exported ONNX model (.onnx)."),
    out: Path = typer.Option(..., "--out", help="Output folder: OUT/<case>/<video>/ per video."),
    case: str = typer.Option(None, "--case", help="Case id of the one input video (default: VIDEOS/<case>/... "
                                                  "as `oocyteseg frames`, else the file's stem)."),
    fps: str = typer.Option("all", "--fps", help="'all' (every frame) or N frames per second of video."),
    backend: str = typer.Option(None, "--backend", help="torch or onnx (default: onnx for .onnx files, else torch)."),
    size: tuple[int, int] = typer.Option(None, "--size", help="Run the model at H W (default: its training size)."),
    threads: int = typer.Option(None, "--threads", help="Intra-op threads of torch / ONNX Runtime per worker "
                                "(default: the cores shared among the workers)."),
    workers: int = typer.Option(2, "--workers", help="Batches segmented at once, each in its own thread."),
    device: str = typer.Option("auto", "--device", help="auto (CUDA when present, else CPU), cpu, cuda or cuda:N; "
                               "ONNX Runtime uses its CUDA provider when onnxruntime-gpu is installed."),
    batch_size: int = typer.Option(4, "--batch-size", help="Frames segmented together."),
    shard: str = typer.Option("1/1", "--shard", help="i/n: analyse the i-th of n parts of the sorted video list."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Redo videos already done."),
    labelme: bool = typer.Option(False, "--labelme", help="Also write sampled frames as PNG + LabelMe JSON."),
    labelme_fps: float = typer.Option(1.0, "--labelme-fps", help="LabelMe frames per second of video."),
    overlay: bool = typer.Option(True, "--overlay/--no-overlay", help="Write overlay.mp4 per video."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Micrometres per pixel: adds *_um columns."),
    tip_model: Path = typer.Option(None, "--tip-model", help="A model trained on native-resolution crops "
                                   "(.pt or .onnx at 128x192) that refines each frame's needle tip."),
    tta: str = typer.Option("none", "--tta", help="Test-time augmentation: none, or flip (each frame and its "
                            "mirror image, logits averaged: more accurate, half the speed)."),
) -> None:
    """Segment and measure every frame of ICSI videos (masks, features, overlay video, summary), and still
    images (micrographs: masks, overlays, LabelMe JSON, one features row per image in OUT/stills/).

    Finished videos and images are skipped on a re-run (resume); a broken file is reported and the others
    finish. Each video goes to OUT/<case>/<video stem>/; OUT/summary.csv has one row per video.

    Example: oocyteseg analyze videos/ --model runs/train/model.onnx --out runs/analysis --labelme
    """
    from oocyteseg.pipelines.analysis import run_analysis, run_stills
    from oocyteseg.reports.stills import has_videos

    tta = tta_option(tta)
    config = AnalyzeConfig(fps=parse_fps(fps), batch_size=batch_size, workers=workers, labelme=labelme,
                           labelme_fps=labelme_fps, pixel_size_um=pixel_size)
    size_hw = tuple(size) if size and all(size) else None
    console, err = Console(), Console(stderr=True)
    for item in videos:
        if not item.exists():
            raise OocytesegError("no such video, image or folder", item, "check the path")
    with progress_callback() as update:
        stills = run_stills(videos, model, out, backend=backend, size=size_hw, threads=threads, device=device,
                            case=case, overwrite=overwrite, pixel_size_um=pixel_size, tta=tta, progress=update)
    if stills is not None:
        for line in stills.warnings:
            err.print(f"[bold yellow]warning:[/] {line}", highlight=False, soft_wrap=True)
        for _, line in stills.failed:
            err.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
        console.print(f"{len(stills.done)} images analysed, {len(stills.skipped)} already done (skipped), "
                      f"{len(stills.failed)} failed; masks, overlays and LabelMe files in [bold]{stills.out}[/], "
                      f"one row per image in {stills.table}")
        if not has_videos(videos, exclude=out):
            if stills.failed:
                raise OocytesegError(f"{len(stills.failed)} of {len(stills.failed) + len(stills.done) + len(stills.skipped)}"
                                     " images failed (errors above); the others are complete", stills.out,
                                     "fix or remove the broken images and re-run the same command")
            return
    with progress_callback() as update:
        outcome = run_analysis(videos, model, out, config, backend=backend, size=size_hw, threads=threads, device=device,
                               case=case, shard=parse_shard(shard), overwrite=overwrite, overlay=overlay,
                               tip_model=tip_model, tta=tta, progress=update, command=_command_line(ctx))
    for result in outcome.done:
        if result.summary.get("size_warning"):
            err.print(f"[bold yellow]warning:[/] {result.video}: {result.summary['size_warning']}", highlight=False,
                      soft_wrap=True)
    for _, line in outcome.failed:
        err.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
    console.print(f"{len(outcome.done)} videos analysed, {len(outcome.skipped)} already done (skipped), "
                  f"{len(outcome.failed)} failed; outputs in [bold]{out}[/] (OUT/<case>/<video>/, table summary.csv; "
                  f"`oocyteseg report {out}` makes the HTML report)")
    if outcome.failed:
        n = len(outcome.done) + len(outcome.skipped) + len(outcome.failed)
        raise OocytesegError(f"{len(outcome.failed)} of {n} videos failed (errors above); the others are complete",
                             out, "fix or remove the broken videos and re-run the same command "
                                  "(finished videos are skipped)")


def export(
    checkpoint: Path = typer.Argument(..., help="Portable checkpoint (.pt); with --int8 also an exported .onnx."),
    onnx: Path = typer.Option(..., "--onnx", help="Output ONNX file."),
    size: tuple[int, int] = typer.Option(None, "--size", help="Input H W (default: the training size)."),
    int8: bool = typer.Option(False, "--int8", help="Static INT8 quantisation (onnxruntime.quantization, QDQ), "
                              "calibrated on --calibration stills: about 2x faster on a CPU."),
    calibration: Path = typer.Option(None, "--calibration", help="Manifest of annotated stills of your own videos "
                                     "(calibration, and the IoU check with --check-cases); needed with --int8."),
    check_cases: list[str] = typer.Option(None, "--check-cases", help="Held-out case(s) of --calibration on which "
                                          "INT8 and float32 are scored (never used for calibration); repeatable."),
    calibration_images: int = typer.Option(32, "--calibration-images", help="Stills drawn for calibration."),
    max_iou_drop: float = typer.Option(0.005, "--max-iou-drop", help="Refuse the INT8 file if the mean IoU on "
                                       "--check-cases drops by more than this."),
    exclude_decoder: bool = typer.Option(False, "--exclude-decoder", help="Keep decoder and head in float32."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
) -> None:
    """Export a checkpoint to ONNX (input size and class names embedded) for `analyze --backend onnx`.

    Example: oocyteseg export runs/train/model.pt --onnx runs/train/model.onnx

    INT8: oocyteseg export runs/train/model.pt --onnx runs/train/model-int8.onnx --int8
    --calibration runs/data/manifest.csv --check-cases case01
    """
    console = Console()
    shape = tuple(size) if size and all(size) else None
    if not int8:
        if calibration or check_cases:
            raise OocytesegError("--calibration and --check-cases are for --int8", fix="add --int8 or drop them")
        path = export_checkpoint_onnx(checkpoint, onnx, shape, overwrite=overwrite)
        console.print(f"ONNX model written: [bold]{path}[/]")
        return
    from oocyteseg.inference.quantize import export_int8

    if calibration is None:
        raise OocytesegError("--int8 needs calibration stills", checkpoint,
                             "pass --calibration MANIFEST (annotated stills of your own videos)")
    path, check = export_int8(checkpoint, onnx, calibration, check_cases=check_cases or (),
                              calibration_images=calibration_images, max_drop=max_iou_drop, size=shape,
                              exclude_decoder=exclude_decoder, overwrite=overwrite)
    if check is None:
        console.print("[yellow]INT8 accuracy not checked[/]: pass --check-cases to score it against float32")
    else:
        classes = list(check.per_class_float32)
        console.print("| model | mean IoU | " + " | ".join(classes) + " |\n|---|---:|" + "---:|" * len(classes))
        for name, miou, per in (("float32", check.float32, check.per_class_float32),
                                ("INT8", check.int8, check.per_class_int8)):
            console.print(f"| {name} | {miou:.4f} | " + " | ".join(f"{per[c]:.3f}" for c in classes) + " |")
        console.print(f"mean IoU drop {check.drop:+.4f} on {check.images} stills (at most {max_iou_drop:g})")
    console.print(f"INT8 ONNX model written: [bold]{path}[/]")


def report(
    run_dir: Path = typer.Argument(..., help="Folder written by `oocyteseg analyze` (may also hold a training run)."),
    out: Path = typer.Option(None, "--out", help="HTML file (default: RUN_DIR/report.html)."),
    truth: Path = typer.Option(None, "--truth", help="Ground-truth masks: a <case>_masks.npz file or a folder of them "
                                                     "(default: <video stem>_masks.npz next to each video)."),
    max_thumbnails: int = typer.Option(8, "--max-thumbnails", help="QC-flagged frames shown per video."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing report."),
) -> None:
    """One self-contained HTML report of an analysis: IoU and feature tables, curves, QC frames, command.

    Example: oocyteseg report runs/analysis --out runs/analysis/report.html
    """
    from oocyteseg.reports.html_report import build_report

    path = build_report(run_dir, out, truth=truth, max_thumbnails=max_thumbnails, overwrite=overwrite)
    Console().print(f"report written: [bold]{path}[/]")


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    app.command("export")(export)
    app.command("report")(report)
