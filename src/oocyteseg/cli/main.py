"""The `oocyteseg` console script: one Typer app; each subcommand group lives in its own module.

Every module listed in COMMAND_MODULES exposes `register(app)`. The CLI only parses arguments and
calls library functions; errors of the project's own kind are printed as one line, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console
from typer.core import TyperGroup

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

err_console = Console(stderr=True)


class OneLineErrors(TyperGroup):
    """The root command group: errors of the project's own kind (and registry KeyErrors, whose message lists
    the valid names) end the command as one line on stderr and exit status 2, never a traceback; Ctrl+C says
    that finished outputs are kept (status 130). Any other exception is a bug and keeps its traceback."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except OocytesegError as exc:
            _say_error(exc.one_line())
        except KeyError as exc:
            text = str(exc.args[0]) if exc.args else ""
            if "valid" not in text:  # a plain KeyError is a bug
                raise
            _say_error(text)
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]: outputs written so far are complete; re-run to resume.")
            raise typer.Exit(130) from None
        raise typer.Exit(2)


def _say_error(line: str) -> None:
    err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)


app = typer.Typer(
    name="oocyteseg",
    cls=OneLineErrors,
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


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app in click's standalone mode (usage errors, --help and our errors end in
    sys.exit) and return the exit status instead of exiting, so tests and `python -m` can use it."""
    try:
        app(args=argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
