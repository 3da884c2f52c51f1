"""End-to-end: the real `oocyteseg train / cv / evaluate` commands on a tiny phantom."""

from __future__ import annotations

import json

import pandas as pd
import torch

from oocyteseg.cli.main import main

torch.set_num_threads(1)


def test_train_then_evaluate(tiny_config_file, tiny_phantom, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", str(tiny_config_file), "--set", "optim.max_steps=1", "--out", str(run),
                 "--no-progress"]) == 0
    assert str(run / "model.pt") in capsys.readouterr().out.replace("\n", "")
    out = tmp_path / "eval"
    assert main(["evaluate", str(run / "model.pt"), str(tiny_phantom), "--out", str(out), "--cases", "case03",
                 "--cases", "case01"]) == 0
    table = pd.read_csv(out / "per_case_iou.csv")
    assert table["case"].tolist() == ["case01", "case03", "Average"]
    assert list(table.columns) == ["case", "oocyte", "sERC", "needle", "Average"]
    overall = json.loads((out / "overall.json").read_text())
    cm = overall["confusion_matrix"]
    assert sum(map(sum, cm)) == 4 * 96 * 128  # native-size masks: 2 cases x 2 stills of 96x128 pixels
    assert len(pd.read_csv(out / "per_image.csv")) == 4
    # outputs are never replaced silently
    assert main(["evaluate", str(run / "model.pt"), str(tiny_phantom), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    # Andreini-style regime table: the same model twice must give the same row twice
    assert main(["evaluate", str(run / "model.pt"), str(tiny_phantom), "--out", str(out), "--overwrite",
                 "--compare", f"Fine-tuned={run / 'model-last.pt'}"]) == 0
    regimes = pd.read_csv(out / "regimes.csv")
    assert regimes["Trained on"].tolist() == ["Real", "Fine-tuned"]
    assert list(regimes.columns) == ["Trained on", "Accuracy", "Mean IoU"]
    assert regimes["Accuracy"].nunique() == 1  # 1 step with validation each step: best == last


def test_bad_inputs_are_one_line_errors(tiny_config_file, tmp_path, capsys):
    assert main(["train", "--config", str(tiny_config_file), "--set", "optim.lrr=1", "--out", str(tmp_path / "x")]) == 2
    assert "optim.lrr" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing.pt"), str(tmp_path)]) == 2
    assert "checkpoint does not exist" in capsys.readouterr().err.replace("\n", " ")


def test_cv_leave_one_case_out_is_resumable(tiny_config_file, tiny_phantom, tmp_path, capsys):
    out = tmp_path / "cv"
    args = ["cv", "--config", str(tiny_config_file), "--set", "optim.max_steps=1", "--set", "data.val_cases=null",
            "--folds", "leave-one-case-out", "--out", str(out), "--no-progress"]
    assert main(args) == 0
    splits = json.loads((out / "splits.json").read_text())
    assert [f["test"] for f in splits["folds"]] == [["case01"], ["case02"], ["case03"]]
    for f in splits["folds"]:
        assert not set(f["train"]) & set(f["test"])
        done = json.loads((out / f"fold-{f['index']:02d}" / "done.json").read_text())
        assert done["test"] == f["test"] and done["steps"] == 1
    table = pd.read_csv(out / "per_case_iou.csv")
    assert table["case"].tolist() == ["case01", "case02", "case03", "Average"]
    assert (out / "per_case_iou.md").is_file() and (out / "learning_curve.png").is_file()
    # a re-run reuses splits.json and skips the finished folds (their models are untouched)
    stamp = (out / "fold-00" / "model.pt").stat().st_mtime_ns
    assert main(args) == 0
    assert (out / "fold-00" / "model.pt").stat().st_mtime_ns == stamp
    assert json.loads((out / "splits.json").read_text()) == splits
    # an unfinished fold (no done.json) is continued only when asked to
    (out / "fold-01" / "done.json").unlink()
    capsys.readouterr()
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0
    assert (out / "fold-01" / "done.json").is_file()
    assert (out / "fold-00" / "model.pt").stat().st_mtime_ns == stamp
    # ... and refuses data whose cases no longer match the splits
    df = pd.read_csv(tiny_phantom)
    df = df[df["case"].isin(["case01", "case02"])]
    for col in ("image", "mask"):
        df[col] = [str(tiny_phantom.parent / p) for p in df[col]]
    two = tmp_path / "two.csv"
    df.to_csv(two, index=False)
    capsys.readouterr()
    assert main([*args, "--set", f"data.manifests=[{two}]"]) == 2
    assert "does not match the data's cases" in capsys.readouterr().err.replace("\n", " ")


def test_cv_final_trains_the_model_to_deploy_on_every_case(tiny_config_file, tiny_phantom, tmp_path, capsys):
    from oocyteseg.inference import OnnxPredictor

    out = tmp_path / "cv"
    args = ["cv", "--config", str(tiny_config_file), "--set", "optim.max_steps=2", "--set", "data.val_cases=null",
            "--folds", "leave-one-case-out", "--out", str(out), "--no-progress", "--final"]
    assert main(args) == 0
    assert "model to deploy" in capsys.readouterr().out
    final = out / "final"
    data = json.loads((final / "data.json").read_text())
    assert data["train_cases"] == ["case01", "case02", "case03"] and data["val_cases"] == []
    card = json.loads((final / "model_card.json").read_text())
    assert card["classes"] == ["background", "oocyte", "sERC", "needle"] and card["input_size"] == [48, 64]
    assert set(card["training_images_by_case"]) == {"case01", "case02", "case03"} and card["steps"] == 2
    text = (final / "model_card.md").read_text()
    assert "IoU per case" in text and "case03" in text and card["commit"]
    predictor = OnnxPredictor(final / "model.onnx", threads=1)
    assert predictor.size == (48, 64) and predictor.labels.name == "icsi"
