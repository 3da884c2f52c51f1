"""The `oocyteseg` console script: one Typer app; each subcommand group lives in its own module.

Every module listed in COMMAND_MODULES exposes `register(app)`. The CLI only parses arguments and
calls library functions; errors of the project's own kind are printed as one line, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from oocyteseg.errors import OocytesegError

# One line per subcommand module (kept sorted by pipeline stage). Add yours here.
COMMAND_MODULES: list[str] = [
    "oocyteseg.cli.phantom_cmd",
    "oocyteseg.cli.frames_cmd",
    "oocyteseg.cli.labelme_cmd",
    "oocyteseg.cli.dataset_cmd",
    "oocyteseg.cli.models_cmd",
    "oocyteseg.cli.train_cmd",
    "oocyteseg.cli.features_cmd",
    "oocyteseg.cli.synth_cmd",
    "oocyteseg.cli.analyze_cmd",
    "oocyteseg.cli.serve_cmd",
    "oocyteseg.cli.experiment_cmd",
    "oocyteseg.cli.demo_cmd",
]

app = typer.Typer(
    name="oocyteseg",
    help="Segmentation and morphometry of oocyte micrographs and ICSI videos.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.callback()
def _root() -> None:
    """oocyteseg: oocyte / ICSI segmentation, morphometry, training and video analysis.

    Start with `oocyteseg demo` (the whole pipeline on phantom data) or `oocyteseg phantom --help`.
    """


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)

err_console = Console(stderr=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, turning project errors into a one-line message and exit status 2."""
    try:
        # non-standalone click returns the exit code of typer.Exit / the command's return value
        rc = app(args=argv, standalone_mode=False)
        if isinstance(rc, int) and not isinstance(rc, bool):
            return rc
    except OocytesegError as exc:
        err_console.print(f"[bold red]error:[/] {exc.one_line()}", highlight=False, soft_wrap=True)
        return 2
    except KeyError as exc:  # unknown registry names: the message lists the valid ones
        text = str(exc.args[0]) if exc.args else ""
        if "valid" not in text:  # a plain KeyError is a bug: keep its traceback
            raise
        err_console.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]: outputs written so far are complete; re-run to resume.")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click usage errors (Typer vendors click, so match by shape)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            return int(exc.exit_code)
        if type(exc).__name__ == "Abort":
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
