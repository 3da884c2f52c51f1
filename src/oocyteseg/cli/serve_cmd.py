"""`oocyteseg serve`: the local web page (upload, queue, live progress, viewer, downloads)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def serve(
    model: Path = typer.Option(None, "--model", help="Portable model checkpoint (.pt) or ONNX file used for every analysis."),
    data: Path = typer.Option(Path("runs/web"), "--data", help="Data folder: jobs database, inbox/, uploads and results."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback only by default)."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    max_upload_mb: float = typer.Option(2048, "--max-upload-mb", help="Largest accepted upload, in MiB."),
) -> None:
    """Open the local web page: drop videos, watch the analysis, view plots and download the numbers.

    Example: oocyteseg serve --model runs/demo/train/model.pt --data runs/web   (then open http://127.0.0.1:8000)
    """
    from oocyteseg.web.serve import serve as serve_web

    serve_web(model, data, host=host, port=port, max_upload_mb=max_upload_mb, say=Console().print)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
