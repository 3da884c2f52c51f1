"""`oocyteseg demo`: the whole pipeline on phantom data (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.progress import progress_callback


def demo(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="Results folder."),
    cases: int = typer.Option(6, help="Phantom cases; the last one is held out for testing."),
    seconds: float = typer.Option(6.0, help="Video length per case (s)."),
    label_fps: float = typer.Option(4.0, help="Annotated frames per second of video."),
    model: str = typer.Option("unet_effnet_lite0", help="Registered model name (see `oocyteseg models`)."),
    steps: int = typer.Option(300, help="Training steps."),
    height: int = typer.Option(240, help="Training/inference height (frames are 480x640)."),
    width: int = typer.Option(320, help="Training/inference width."),
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

    settings = DemoSettings(cases=cases, seconds=seconds, label_fps=label_fps, seed=seed, model=model,
                            height=height, width=width, steps=steps, batch_size=batch_size, lr=lr,
                            augment=augment)
    console = Console()
    with progress_callback() as update:
        result = run_demo(out, settings, overwrite=overwrite, progress=update)
    ious = ", ".join(f"{k} {v:.3f}" for k, v in result.iou.items())
    console.print(f"held-out mean IoU [bold]{result.mean_iou:.3f}[/] ({ious}); pixel accuracy {result.pixel_accuracy:.4f}")
    v = result.video
    console.print(f"held-out video: {v['frames']} frames analysed end to end in {v['seconds']:.1f} s "
                  f"([bold]{v['fps']:.1f} frames/s[/], ONNX Runtime); masks, features and overlay.mp4 in {v['folder']}")
    console.print(f"results: [bold]{result.summary}[/] ({result.seconds:.0f} s)")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
