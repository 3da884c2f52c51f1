"""`oocyteseg serve`: the local web page (upload, queue, live progress, viewer, downloads)."""

from __future__ import annotations

import socket
from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.errors import OocytesegError

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_model(model: Path | None) -> Path:
    """The model path to serve with; a missing or unreadable one raises a one-line OocytesegError."""
    if model is None:
        raise OocytesegError("serve needs a model to analyse videos with",
                             fix="run `oocyteseg demo` (writes runs/demo/train/model.pt) and pass "
                                 "--model runs/demo/train/model.pt, or give any portable .pt checkpoint or .onnx file")
    if not model.is_file():
        raise OocytesegError("model file does not exist", model,
                             "give a portable .pt checkpoint or .onnx file (e.g. runs/demo/train/model.pt)")
    if model.suffix.lower() != ".onnx":
        from oocyteseg.models import read_checkpoint
        read_checkpoint(model)  # fails now, with the reason, rather than on the first job
    return model


def check_port(host: str, port: int) -> None:
    """Fail now, in one line, when the address cannot be listened on (port taken, unknown host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
            s.bind(infos[0][4])
    except OSError as exc:
        raise OocytesegError(f"cannot listen on {host}:{port} ({exc.strerror or exc})",
                             fix="choose another --port, or stop the program that uses it") from exc


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
    model = check_model(model)
    if max_upload_mb <= 0:
        raise OocytesegError(f"--max-upload-mb must be > 0, got {max_upload_mb}")
    check_port(host, port)
    import uvicorn

    from oocyteseg.web.app import create_app

    # Host-header check against DNS rebinding (Starlette's check cannot parse IPv6 literals: skipped for ::1)
    hosts = ["127.0.0.1", "localhost"] if host in ("127.0.0.1", "localhost") else None
    app = create_app(data, model, max_upload_bytes=int(max_upload_mb * 1024 * 1024), allowed_hosts=hosts)
    console = Console()
    if host not in _LOOPBACK:
        console.print(f"[yellow]warning:[/] listening on {host}: anyone who can reach this machine can upload "
                      "and download analyses (there is no login)")
    console.print(f"oocyteseg web page: [bold]http://{'[' + host + ']' if ':' in host else host}:{port}[/] "
                  f"(model {model}; data and results in [bold]{data}[/]); Ctrl+C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    console.print(f"server stopped; analyses are kept in [bold]{data}[/]")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
