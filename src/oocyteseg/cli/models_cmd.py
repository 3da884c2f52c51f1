"""`oocyteseg models`: list the registered segmentation models with their sizes."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from oocyteseg.models import build_model, count_parameters, get_model_entry, list_models
from oocyteseg.models.registry import builder_options


def register(app: typer.Typer) -> None:
    """Add the `models` command to the app."""

    @app.command("models")
    def models(
        tiny: bool = typer.Option(False, "--tiny", help="Also list the tiny test variants."),
        num_classes: int = typer.Option(4, "--num-classes", help="Classes used to count head parameters."),
    ) -> None:
        """List the segmentation models (names for --model), parameters and pretrained backbone.

        Example: oocyteseg models --tiny
        """
        table = Table(title="oocyteseg models")
        for column in ("name", "params (M)", "backbone_weights file", "options", "description"):
            table.add_column(column)
        for name in list_models(include_tiny=tiny):
            entry = get_model_entry(name)
            params = count_parameters(build_model(name, num_classes=num_classes))
            backbone = f"torchvision {entry.backbone} ImageNet .pth" if entry.backbone else "-"
            table.add_row(name, f"{params / 1e6:.2f}", backbone, ", ".join(builder_options(name)) or "-", entry.description)
        Console().print(table)
