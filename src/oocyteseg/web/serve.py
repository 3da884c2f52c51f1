"""Run the local web page: check the model and the address first (one-line errors), apply the host policy
(Host-header check on loopback, a warning elsewhere), then serve with uvicorn until Ctrl+C."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from oocyteseg.errors import OocytesegError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_model(model: str | os.PathLike | None) -> Path:
    """The model path to serve with; a missing or unreadable one raises a one-line OocytesegError."""
    if model is None:
        raise OocytesegError("serve needs a model to analyse videos with",
                             fix="run `oocyteseg demo` (writes runs/demo/train/model.pt) and pass "
                                 "--model runs/demo/train/model.pt, or give any portable .pt checkpoint or .onnx file")
    model = Path(model)
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


def allowed_hosts(host: str) -> list[str] | None:
    """Host-header names the app accepts when listening on `host` (None: any). On a loopback name only the
    loopback names pass, against DNS rebinding (Starlette's check cannot parse IPv6 literals: none for ::1)."""
    return ["127.0.0.1", "localhost"] if host in ("127.0.0.1", "localhost") else None


def serve(model: str | os.PathLike | None, data: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
          max_upload_mb: float = 2048, say: Callable[[str], None] = print) -> None:
    """Check everything, then serve the web page on host:port until interrupted; `say` gets the messages
    (rich markup) for the person who started it."""
    model = check_model(model)
    if max_upload_mb <= 0:
        raise OocytesegError(f"--max-upload-mb must be > 0, got {max_upload_mb}")
    check_port(host, port)
    import uvicorn

    from oocyteseg.web.app import create_app

    app = create_app(data, model, max_upload_bytes=int(max_upload_mb * 1024 * 1024), allowed_hosts=allowed_hosts(host))
    if host not in LOOPBACK:
        say(f"[yellow]warning:[/] listening on {host}: anyone who can reach this machine can upload "
            "and download analyses (there is no login)")
    say(f"oocyteseg web page: [bold]http://{'[' + host + ']' if ':' in host else host}:{port}[/] "
        f"(model {model}; data and results in [bold]{data}[/]); Ctrl+C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    say(f"server stopped; analyses are kept in [bold]{data}[/]")
