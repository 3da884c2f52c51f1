"""`oocyteseg labelme`: LabelMe JSON -> index masks + manifest, and `oocyteseg labelme export`: masks -> LabelMe."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.frames_cmd import report_result
from oocyteseg.cli.progress import progress_callback
from oocyteseg.errors import OocytesegError


def labelme(
    inputs: list[str] = typer.Argument(..., help="Folders or JSON files; or `export` followed by a manifest or masks folder."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    classes: str = typer.Option(None, "--classes", help="Classes YAML (or built-in name icsi / inclusions)."),
    case: str = typer.Option(None, "--case", help="Case id for every file (default: DIR/<case>/... or the stem)."),
    strict: bool = typer.Option(False, "--strict", help="Fail files with skipped or clipped shapes."),
    images: Path = typer.Option(None, "--images", help="export from a masks folder: the images (same stems)."),
    embed_images: bool = typer.Option(False, "--embed-images", help="export: put the image into the JSON (imageData)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
) -> None:
    """Convert LabelMe annotations to index masks, a colour preview and a manifest (or the reverse).

    Example: oocyteseg labelme annotations/ --classes configs/classes-icsi.yaml --out runs/data

    Reverse: oocyteseg labelme export runs/data/manifest.csv --out runs/labelme
    """
    if inputs and inputs[0] == "export" and not Path("export").exists():
        if len(inputs) != 2:
            raise OocytesegError("`labelme export` takes one manifest or masks folder",
                                 fix="e.g. oocyteseg labelme export runs/data/manifest.csv --out runs/labelme")
        from oocyteseg.data.ingest_export import export_labelme

        with progress_callback() as update:
            result = export_labelme(inputs[1], out, classes=classes, images=images, embed_images=embed_images,
                                    overwrite=overwrite, progress=update)
        report_result(result, "LabelMe files")
        return
    if classes is None:
        raise OocytesegError("--classes is required", fix="pass --classes configs/classes-icsi.yaml (or icsi)")
    from oocyteseg.data.ingest_labelme import ingest_labelme

    with progress_callback() as update:
        result = ingest_labelme(inputs, classes, out, case=case, overwrite=overwrite, strict=strict, progress=update)
    report_result(result, "masks")
    if result.table is not None:
        Console(soft_wrap=True).print(f"masks: {Path(out) / 'masks'}  previews: {Path(out) / 'previews'}")


def register(app: typer.Typer) -> None:
    app.command("labelme")(labelme)
