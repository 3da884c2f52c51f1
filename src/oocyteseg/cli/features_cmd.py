"""`oocyteseg features` and `oocyteseg compare`: morphometry of masks, automatic vs manual."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.progress import progress_callback
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import resolve_labels
from oocyteseg.morphometry.compare import compare as compare_tables
from oocyteseg.morphometry.compare_report import write_comparison
from oocyteseg.morphometry.table import features_from_source, read_features, write_features


def features(
    source: Path = typer.Argument(..., help="manifest.csv/.parquet, a folder holding manifest.csv, or a folder of "
                                            "index PNG masks."),
    out: Path = typer.Option(..., "--out", help="Output table (.csv or .parquet); both formats are written."),
    pixel_size: float = typer.Option(None, "--pixel-size", help="Micrometres per pixel: adds *_um / *_um2 columns."),
    classes: str = typer.Option(None, "--classes", "--labelset",
                                help="Classes file or built-in name (icsi, inclusions, oocyte-anatomy) of a mask "
                                     "folder (default icsi); a manifest's rows keep the classes written beside it."),
    overwrite: bool = typer.Option(False, help="Replace existing output tables."),
) -> None:
    """Measure every mask (Shimotsu f1-f4 and more, by the classes' roles); one row per frame, with QC flags.

    Example: oocyteseg features runs/phantom/manifest.csv --out runs/features/manual.csv --pixel-size 0.3
    """
    labels = resolve_labels(classes) if classes is not None else None
    if pixel_size is not None and not pixel_size > 0:
        raise OocytesegError(f"--pixel-size must be > 0, got {pixel_size}", fix="give micrometres per pixel")
    with progress_callback() as update:
        df = features_from_source(source, pixel_size, labels, progress=update)
    paths = write_features(df, out, overwrite)
    n_missing = int((df["reason"] != "").sum()) if "reason" in df.columns else 0
    Console().print(f"{len(df)} frames measured ({n_missing} with a reason/flag); "
                    f"features written: [bold]{paths[0]}[/] and [bold]{paths[1]}[/]")


def compare(
    auto: Path = typer.Option(..., "--auto", help="Features table of the automatic masks (.csv/.parquet)."),
    manual: Path = typer.Option(..., "--manual", help="Features table of the manual masks (.csv/.parquet)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    overwrite: bool = typer.Option(False, help="Replace existing outputs in --out."),
) -> None:
    """Relative and absolute error of f1-f4 per frame and per case (Shimotsu Table 3), Bland-Altman plots.

    Example: oocyteseg compare --auto runs/features/auto.csv --manual runs/features/manual.csv --out runs/compare
    """
    per_frame, per_case = compare_tables(read_features(auto), read_features(manual))
    if per_frame.empty:
        raise OocytesegError("no frame of the automatic table matches the manual table", auto,
                             "check that both tables use the same case names and frame indices or times")
    write_comparison(per_frame, per_case, out, overwrite)
    Console().print(f"{len(per_frame)} matched frames; comparison written to [bold]{out}[/] "
                    f"(comparison.md, table3_relative.csv, table_absolute.csv, per_frame.csv, bland_altman_f*.png)")


def register(app: typer.Typer) -> None:
    app.command("features")(features)
    app.command("compare")(compare)
