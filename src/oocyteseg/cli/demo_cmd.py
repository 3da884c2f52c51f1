"""`oocyteseg demo`: the whole pipeline on phantom data (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.options import crop_option
from oocyteseg.cli.progress import progress_callback


def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Results folder."),
    cases: int = typer.Option(6, help="Phantom cases; the last one is held out for testing."),
    seconds: float = typer.Option(6.0, help="Video length per case (s)."),
    label_fps: float = typer.Option(4.0, help="Annotated frames per second of video."),
    model: str = typer.Option("unet_effnet_lite0_hr", help="Registered model name (see `oocyteseg models`)."),
    steps: int = typer.Option(500, help="Training steps."),
    height: int = typer.Option(480, help="Model input height (frames are 480x640)."),
    width: int = typer.Option(640, help="Model input width."),
    crop: str = typer.Option("320x384", help="Training crops HEIGHTxWIDTH of the model input (half of them "
                             "centred on oocyte, sERC or needle), or 'none' for whole frames."),
    int8: bool = typer.Option(True, "--int8/--float32", help="Analyse the video with a static INT8 export "
                              "(calibrated on training stills; float32 if it loses > 0.005 mean IoU)."),
    batch_size: int = typer.Option(4),
    lr: float = typer.Option(3e-3, help="Peak learning rate (one-cycle schedule)."),
    augment: str = typer.Option("photometric+geometric+flips", help="Augmentation presets, joined with '+'."),
    seed: int = typer.Option(0),
    overwrite: bool = typer.Option(False, help="Replace the results of an earlier demo in --out."),
) -> None:
    """Phantom data -> train a fast model -> predict a held-out case -> IoU and Shimotsu features -> every
    frame of the held-out case's video analysed (masks, features, overlay video, frames/s).

    Example: oocyteseg demo --out runs/demo --overwrite
    """
    from oocyteseg.pipelines.demo import DemoSettings, run_demo  # heavy imports only when used

    crop_size = crop_option(crop)
    settings = DemoSettings(cases=cases, seconds=seconds, label_fps=label_fps, seed=seed, model=model,
                            height=height, width=width, crop=crop_size,
                            int8=int8, steps=steps, batch_size=batch_size, lr=lr, augment=augment)
    console = Console()
    with progress_callback() as update:
        result = run_demo(out, settings, overwrite=overwrite, progress=update)
    ious = ", ".join(f"{k} {v:.3f}" for k, v in result.iou.items())
    console.print(f"held-out mean IoU [bold]{result.mean_iou:.3f}[/] ({ious}); pixel accuracy {result.pixel_accuracy:.4f}")
    v = result.video
    console.print(f"held-out video: {v['frames']} frames analysed end to end in {v['seconds']:.1f} s "
                  f"([bold]{v['fps']:.1f} frames/s[/], ONNX Runtime, {_model_kind(v['int8'])}); masks, features and "
                  f"overlay.mp4 in {v['folder']}")
    console.print(f"results: [bold]{result.summary}[/] ({result.seconds:.0f} s)")


def _model_kind(int8: dict) -> str:
    if int8.get("used"):
        return f"INT8: held-out mean IoU {int8['int8_miou']:.3f} vs float32 {int8['float32_miou']:.3f}"
    return "float32, INT8 refused" if "refused" in int8 else "float32"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
