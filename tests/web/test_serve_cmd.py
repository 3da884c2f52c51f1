"""`oocyteseg serve`: the model check and the help text (the server itself is tested in test_browser)."""

from __future__ import annotations

import pytest

from oocyteseg.cli.main import main


def test_serve_without_model_says_how_to_get_one(capsys):
    assert main(["serve"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "serve needs a model" in err and "oocyteseg demo" in err and "runs/demo/train/model.pt" in err


def test_serve_rejects_missing_and_foreign_models(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "none.pt")]) == 2
    assert "model file does not exist" in capsys.readouterr().err
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    assert main(["serve", "--model", str(junk)]) == 2
    assert "not a readable oocyteseg model checkpoint" in " ".join(capsys.readouterr().err.split())


def test_serve_refuses_a_port_in_use(tiny_model, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--model", str(tiny_model), "--port", str(port)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"cannot listen on 127.0.0.1:{port}" in err and "choose another --port" in err


def test_serve_help_shows_an_example(capsys):
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example: oocyteseg serve --model" in " ".join(out.split()) and "127.0.0.1" in out


@pytest.mark.slow
def test_serve_runs_on_loopback_and_stops(tmp_path, tiny_model):
    """The real command in a subprocess: answers on 127.0.0.1, refuses foreign Host names, stops on SIGINT."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "oocyteseg.cli.main", "serve", "--model", str(tiny_model),
                             "--data", str(tmp_path / "data"), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        end = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as res:
                    assert res.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < end, "server did not start"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as res:
            assert b"oocyteseg" in res.read()
        foreign = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"Host": "rebound.example"})
        try:
            urllib.request.urlopen(foreign, timeout=5)
            raise AssertionError("a foreign Host header was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 400
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}" in out and "server stopped" in out
    assert (tmp_path / "data" / "jobs.sqlite").is_file()
