"""End-to-end smoke test: the real `oocyteseg demo` CLI on a tiny setting."""

import json

import numpy as np
import pandas as pd
import pytest

from oocyteseg.cli.main import main


def test_demo_cli_tiny(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--cases", "2", "--seconds", "1", "--label-fps", "2",
            "--model", "unet_effnet_lite0_hr_tiny", "--steps", "2", "--height", "64", "--width", "96",
            "--crop", "32x48", "--batch-size", "2"]
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
    config = (out / "train" / "config.yaml").read_text()
    assert "crop:\n  - 32\n  - 48" in config and "crop_focus: 0.5" in config  # trained on crops
    assert "trained on random 32x48 crops" in summary
    # the video ran through the INT8 export when it kept the held-out IoU, else through float32 with the reason
    int8 = info["video"]["int8"]
    if int8["used"]:
        assert info["video"]["model"].endswith("model-int8.onnx") and (out / "train" / "model-int8.onnx").is_file()
        assert int8["drop"] == pytest.approx(int8["float32_miou"] - int8["int8_miou"]) and int8["drop"] <= 0.005
        assert f"{int8['int8_miou']:.4f} against {int8['float32_miou']:.4f} for float32" in summary
    else:
        assert info["video"]["model"].endswith("model.onnx") and "INT8 loses" in int8["refused"]
        assert "the INT8 export was refused" in summary
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


def test_demo_float32_and_bad_crop(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--cases", "2", "--seconds", "1", "--label-fps", "2",
            "--model", "lraspp_mobilenet_v3_tiny", "--steps", "1", "--height", "64", "--width", "96",
            "--crop", "none", "--float32", "--batch-size", "2"]
    assert main(args) == 0
    info = json.loads((out / "demo.json").read_text())
    assert info["video"]["int8"] == {"used": False} and info["video"]["model"].endswith("model.onnx")
    assert not (out / "train" / "model-int8.onnx").exists()
    assert "crop: null" in (out / "train" / "config.yaml").read_text()
    assert "Model file: float32 (`model.onnx`)." in (out / "summary.md").read_text()
    capsys.readouterr()
    assert main(["demo", "--out", str(tmp_path / "bad"), "--crop", "320by384"]) == 2
    err = capsys.readouterr().err
    assert "--crop must be HEIGHTxWIDTH" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_demo_falls_back_to_float32_when_int8_is_refused(tmp_path, monkeypatch):
    """A refused INT8 export (too much IoU lost) must not end the demo: the video runs on float32, reason kept."""
    import oocyteseg.inference.quantize as quantize
    from oocyteseg.errors import OocytesegError
    from oocyteseg.pipelines.demo import DemoSettings, run_demo

    calls = []

    def refuse(model, out_path, data, **kw):
        calls.append(kw["check_cases"])
        raise OocytesegError("INT8 loses 0.0300 mean IoU on case02 (0.5000 -> 0.4700; at most 0.005 allowed); "
                             "nothing written", out_path)

    monkeypatch.setattr(quantize, "export_int8", refuse)
    settings = DemoSettings(cases=2, seconds=1, label_fps=2, model="lraspp_mobilenet_v3_tiny", steps=1, height=64,
                            width=96, crop=None, batch_size=2)
    stale = tmp_path / "demo" / "train" / "model-int8.onnx"  # left by an earlier demo in the same folder
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    result = run_demo(tmp_path / "demo", settings, overwrite=True, show_training_progress=False)
    assert not stale.exists()  # removed: only a kept INT8 file is ever there
    assert calls == [["case02"]]  # checked on the held-out case only (calibration: the training cases)
    assert result.video["model"].endswith("model.onnx") and "INT8 loses 0.0300" in result.video["int8"]["refused"]
    assert not result.video["int8"]["used"] and result.video["frames"] == 24
    assert "the INT8 export was refused: INT8 loses 0.0300" in result.summary.read_text()
