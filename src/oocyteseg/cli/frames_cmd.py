"""`oocyteseg frames`: sample PNG stills from ICSI videos by presentation time."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.progress import progress_callback
from oocyteseg.data.ingest_common import IngestResult
from oocyteseg.errors import OocytesegError


def parse_fps(text: str) -> float | None:
    """'all' -> None (every frame); a positive number -> that rate."""
    if text.strip().lower() == "all":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise OocytesegError(f"--fps must be a positive number or 'all', got {text!r}", fix="pass e.g. --fps 1")
    return value


def report_result(result: IngestResult, what: str) -> None:
    """Print warnings, the failed inputs (one line each) and where the outputs are; exit 1 on failures."""
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}")
    for err in result.errors:
        console.print(f"[bold red]failed:[/] {err.one_line()}")
    if result.table is not None:
        Console(soft_wrap=True, highlight=False).print(f"{result.rows} {what} written; table: [bold]{result.table}[/]")
    if result.errors:
        console.print(f"[bold red]{len(result.errors)} input(s) failed[/]; the others were written.")
        raise typer.Exit(1)


def frames(
    inputs: list[Path] = typer.Argument(..., help="Video files or folders (DIR/<case>/<video> gives the case id)."),
    out: Path = typer.Option(..., "--out", help="Output folder (PNG frames + frames.csv)."),
    fps: str = typer.Option("1", "--fps", help="Frames per second to keep (by presentation time), or 'all'."),
    case: str = typer.Option(None, "--case", help="Case id for every input (default: from the folder layout)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Decode videos (WMV, MP4, AVI, MOV, ...) and write stills at --fps by presentation time.

    Example: oocyteseg frames videos/ --fps 1 --out runs/frames
    """
    from oocyteseg.data.ingest_frames import extract_frames

    rate = parse_fps(fps)
    with progress_callback() as update:
        result = extract_frames(inputs, out, fps=rate, case=case, overwrite=overwrite, progress=update)
    report_result(result, "frames")


def register(app: typer.Typer) -> None:
    app.command("frames")(frames)
