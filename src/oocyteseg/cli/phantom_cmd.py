"""`oocyteseg phantom`: render the procedural data set (videos, masks, LabelMe, anatomy, close-ups)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from oocyteseg.cli.progress import progress_callback
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset, parse_responses


def phantom(
    out: Path = typer.Option(Path("runs/phantom"), "--out", help="Output folder."),
    cases: int = typer.Option(6, help="Number of ICSI cases (one video each)."),
    seed: int = typer.Option(0, help="Seed: the same seed gives byte-identical masks and images."),
    seconds: Optional[float] = typer.Option(None, help="Video length per case (s); default 4, or 8 with --responses."),
    fps: float = typer.Option(24.0, help="Video frame rate."),
    label_fps: float = typer.Option(1.0, help="Annotated stills (PNG + mask + LabelMe JSON) per second."),
    height: int = typer.Option(480), width: int = typer.Option(640),
    formats: str = typer.Option("mp4,wmv", help="Video containers to write, comma-separated (mp4, wmv, avi, mov)."),
    inclusion_images: int = typer.Option(26, help="256x256 inclusion close-ups (Andreini: 18 train + 8 test)."),
    anatomy: bool = typer.Option(True, "--anatomy/--no-anatomy",
                                 help="Also label each still in the oocyte-anatomy label set (zona, PVS, ooplasm, "
                                      "polar body)."),
    responses: str = typer.Option("", help="Breakage modes given to the cases in turn: all, or some of pressure, "
                                          "shallow, no_resistance, repeated (comma-separated); writes the injection's "
                                          "ground truth per case and labels the polar body (icsi-injection)."),
    overwrite: bool = typer.Option(False, help="Replace an existing data set in --out."),
) -> None:
    """Render a phantom data set with exact masks.

    Example: oocyteseg phantom --out runs/phantom --cases 11 --seconds 10 --seed 1

    Breakage modes with ground truth: oocyteseg phantom --out runs/injection --cases 8 --responses all
    """
    cfg = PhantomConfig(cases=cases, seed=seed, seconds=seconds, fps=fps, label_fps=label_fps, height=height,
                        width=width, video_formats=tuple(f for f in formats.split(",") if f),
                        inclusion_images=inclusion_images, anatomy=anatomy, responses=parse_responses(responses))
    with progress_callback() as update:
        manifest = make_phantom_dataset(out, cfg, overwrite=overwrite, progress=update)
    Console().print(f"phantom data set written: [bold]{manifest}[/] (videos listed in {manifest.parent / 'videos.csv'})")


def register(app: typer.Typer) -> None:
    app.command("phantom")(phantom)
