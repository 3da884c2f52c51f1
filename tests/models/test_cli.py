"""`oocyteseg models` lists the registry."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from oocyteseg.cli import main as cli_main
from oocyteseg.cli import models_cmd
from oocyteseg.models import list_models


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Keep `models` a subcommand even when it is the only one registered."""

    models_cmd.register(app)
    return app


def test_models_command_lists_every_model_with_tiny() -> None:
    result = CliRunner().invoke(_app(), ["models", "--tiny"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name in list_models():
        assert name in result.output


def test_models_command_hides_tiny_by_default_and_shows_an_example() -> None:
    result = CliRunner().invoke(_app(), ["models"], env={"COLUMNS": "250"})
    assert result.exit_code == 0 and "smanet" in result.output and "smanet_tiny" not in result.output
    help_text = CliRunner().invoke(_app(), ["models", "--help"]).output
    assert "Example: oocyteseg models" in help_text


def test_models_module_is_registered_in_the_console_script() -> None:
    assert "oocyteseg.cli.models_cmd" in cli_main.COMMAND_MODULES
