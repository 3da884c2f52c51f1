"""The console script's error handling: our errors are one line with exit status 2, registry KeyErrors too,
Ctrl+C says outputs are kept (130), a bug keeps its traceback, usage errors stay click's (status 2)."""

from __future__ import annotations

import pytest
import typer

from oocyteseg.cli.main import OneLineErrors, main
from oocyteseg.errors import OocytesegError


def _run(raise_: BaseException, capsys) -> tuple[int, str]:
    app = typer.Typer(cls=OneLineErrors, pretty_exceptions_enable=False)

    @app.callback()
    def root() -> None:
        """Keep `fail` a subcommand."""

    @app.command("fail")
    def fail() -> None:
        raise raise_

    with pytest.raises(SystemExit) as info:
        app(args=["fail"])
    return info.value.code, capsys.readouterr().err


def test_project_error_is_one_line_with_status_2(capsys):
    code, err = _run(OocytesegError("bad frame", "a/b.mp4", "re-encode it"), capsys)
    assert code == 2 and err == "error: a/b.mp4: bad frame. Fix: re-encode it.\n"


def test_registry_key_error_lists_valid_names_in_one_line(capsys):
    code, err = _run(KeyError("unknown model 'x'; valid: a, b"), capsys)
    assert code == 2 and err == "error: unknown model 'x'; valid: a, b\n"


def test_plain_key_error_is_a_bug_and_keeps_its_traceback(capsys):
    with pytest.raises(KeyError, match="oops"):
        _run(KeyError("oops"), capsys)


def test_ctrl_c_says_outputs_are_kept_and_exits_130(capsys):
    code, err = _run(KeyboardInterrupt(), capsys)
    assert code == 130 and err.startswith("interrupted: outputs written so far are complete")


def test_main_returns_the_status_instead_of_exiting(capsys):
    assert main(["--help"]) == 0
    assert main(["serve", "--no-such-option"]) == 2  # click's usage error
    assert main(["serve", "--model", "no/such/model.pt"]) == 2
    err = capsys.readouterr().err
    assert "error: no/such/model.pt: model file does not exist." in err and "Traceback" not in err
