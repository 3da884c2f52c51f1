"""End-to-end smoke test: the real `oocyteseg demo` CLI on a tiny setting."""

import json

import numpy as np
import pandas as pd
import pytest

from oocyteseg.cli.main import main


def test_demo_cli_tiny(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--cases", "2", "--seconds", "1", "--label-fps", "2",
            "--model", "lraspp_mobilenet_v3_tiny", "--steps", "2", "--height", "64", "--width", "96",
            "--batch-size", "2"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "held-out mean IoU" in printed and str(out / "summary.md") in printed.replace("\n", "")
    summary = (out / "summary.md").read_text()
    assert "Held-out case **case02**" in summary and "| f1 [%] |" in summary
    assert "Needle tip (predicted vs true mask" in summary
    metrics = pd.read_csv(out / "metrics.csv")
    assert list(metrics["class"]) == ["background", "oocyte", "sERC", "needle", "all"]
    m = metrics.set_index("class")
    assert m.loc[["background", "oocyte"], "iou"].between(0, 1).all()  # in every frame: always defined
    foreground = m.loc[["oocyte", "sERC", "needle"], "iou"]
    assert m.loc["all", "iou"] == pytest.approx(foreground.mean(skipna=True))  # the mean over oocyte/sERC/needle
    defined = m["iou"].notna() & (m.index != "all")  # per class: Dice = 2 IoU / (1 + IoU)
    assert np.allclose(m.loc[defined, "dice"], 2 * m.loc[defined, "iou"] / (1 + m.loc[defined, "iou"]))
    assert m.loc[["background", "oocyte", "sERC", "needle"], "pixels_true"].sum() == m.loc["all", "pixels_true"] > 0
    info = json.loads((out / "demo.json").read_text())
    assert info["held_out_case"] == "case02" and 0 <= info["pixel_accuracy"] <= 1
    feats = pd.read_csv(out / "features_true.csv")
    assert len(feats) == 2 and {"f1", "f2", "f3", "f4", "reason"} <= set(feats.columns)
    assert (out / "train" / "config.yaml").is_file()
    # the held-out case's whole video went through `analyze`: one features row per frame (24 at 24 fps)
    video = info["video"]
    table = pd.read_csv(out / "analysis" / "case02" / "case02" / "features.csv")
    assert video["frames"] == len(table) == 24 and list(table["frame_index"]) == list(range(24))
    assert video["fps"] == pytest.approx(video["frames"] / video["seconds"], rel=0.05) and video["fps"] > 0
    assert (out / "analysis" / "case02" / "case02" / "overlay.mp4").is_file()
    assert f"{video['fps']:.1f} frames/s" in summary and "frames/s" in printed
    assert not list((out / "phantom" / "icsi" / "case01").glob("*.mp4"))  # training cases: stills only
    assert len(list((out / "overlays").glob("*.png"))) >= 1
    # a second run without --overwrite refuses and leaves the results alone
    before = (out / "summary.md").read_bytes()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "summary.md").read_bytes() == before
