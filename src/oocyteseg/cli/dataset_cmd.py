"""`oocyteseg dataset folder` (image + mask folders -> data set) and `oocyteseg dataset check` (validate + summary)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from oocyteseg.cli.frames_cmd import report_result
from oocyteseg.cli.progress import progress_callback

dataset_app = typer.Typer(help="Build and check data sets (manifest + images + index masks).", no_args_is_help=True)


@dataset_app.command("folder")
def folder(
    images_dir: Path = typer.Argument(..., help="Folder of images (PNG/JPEG/TIFF/BMP)."),
    masks_dir: Path = typer.Argument(..., help="Folder of masks with the same file stems (index, 0/255 or colour)."),
    classes: str = typer.Option(..., "--classes", help="Classes YAML (or built-in name icsi / inclusions)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    case: str = typer.Option(None, "--case", help="Case id for every pair (default: DIR/<case>/... or the stem)."),
    mask_suffix: str = typer.Option("", "--mask-suffix", help="Suffix of mask stems, e.g. _mask for img01_mask.png."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Pair images with masks by file name and write a data set with a manifest.

    Example: oocyteseg dataset folder andreini/images andreini/masks --classes configs/classes-inclusions.yaml --out runs/incl
    """
    from oocyteseg.data.ingest_folder import ingest_folder

    with progress_callback() as update:
        result = ingest_folder(images_dir, masks_dir, classes, out, case=case, mask_suffix=mask_suffix,
                               overwrite=overwrite, progress=update)
    report_result(result, "image/mask pairs")


def _table(title: str, df, formats: dict | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "if" else "left")
    for _, row in df.iterrows():
        table.add_row(*[(formats or {}).get(c, "{}").format(row[c]) for c in df.columns])
    return table


@dataset_app.command("check")
def check(
    path: Path = typer.Argument(..., help="A data set folder (with manifest.csv) or a manifest file."),
    classes: str = typer.Option(None, "--classes", help="Classes YAML for every row (default: by labelset)."),
) -> None:
    """Validate every file of a data set and print images per case, pixels per class and sizes.

    Example: oocyteseg dataset check runs/phantom
    """
    from oocyteseg.data.check import check_dataset

    with progress_callback() as update:
        report = check_dataset(path, classes, progress=update)
    console = Console(soft_wrap=True, highlight=False)
    console.print(_table("Images per case", report.per_case))
    console.print(_table("Pixels per class", report.class_pixels, {"fraction": "{:.4f}", "pixels": "{:,}"}))
    console.print(_table("Image sizes", report.sizes))
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    for problem in report.problems:
        err.print(f"[bold red]problem:[/] {problem.one_line()}")
    console.print(f"{report.rows} rows checked in {report.manifest}: "
                  + ("no problems" if report.ok else f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
