"""`oocyteseg serve`: the model check and the help text (the server itself is tested in test_browser)."""

from __future__ import annotations

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


def test_serve_help_shows_an_example(capsys):
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example: oocyteseg serve --model" in " ".join(out.split()) and "127.0.0.1" in out
