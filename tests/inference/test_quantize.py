"""`oocyteseg export --int8`: static INT8 quantisation calibrated on the lab's stills outside the check cases,
scored against float32 on the check cases, refused when it loses more than --max-iou-drop."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pandas as pd
import pytest

from oocyteseg.cli.main import main
from oocyteseg.evaluation.metrics import confusion_matrix, summarize
from oocyteseg.inference import OnnxPredictor, export_checkpoint_onnx, load_predictor
from oocyteseg.inference.quantize import QUANT_KEY
from oocyteseg.io.images import read_image, read_mask


def _mean_iou(predictor, rows: pd.DataFrame) -> float:
    preds = predictor.predict([read_image(p) for p in rows["image_path"]])
    cm = sum(np.asarray(confusion_matrix(p, read_mask(m), 4)) for p, m in zip(preds, rows["mask_path"]))
    return summarize(cm, list(predictor.labels.classes))["mean_iou"]


def test_int8_export_is_calibrated_outside_the_check_cases_and_records_its_check(tiny_phantom, tiny_checkpoint,
                                                                                  tmp_path):
    from oocyteseg.training.data import load_rows

    manifest = tiny_phantom / "manifest.csv"
    out = tmp_path / "model-int8.onnx"
    assert main(["export", str(tiny_checkpoint), "--onnx", str(out), "--int8", "--calibration", str(manifest),
                 "--check-cases", "case02", "--max-iou-drop", "1"]) == 0
    model = onnx.load(str(out))
    ops = {n.op_type for n in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ graph
    assert any(t.data_type == onnx.TensorProto.INT8 for t in model.graph.initializer)  # INT8 weights
    meta = {p.key: p.value for p in model.metadata_props}
    f32 = export_checkpoint_onnx(tiny_checkpoint, tmp_path / "f32.onnx")
    float_meta = {p.key: p.value for p in onnx.load(str(f32)).metadata_props}
    for key in ("oocyteseg.size", "oocyteseg.classes", "oocyteseg.mean", "oocyteseg.resize"):
        assert meta[key] == float_meta[key]
    record = json.loads(meta[QUANT_KEY])
    assert record["calibration_cases"] == ["case01"]  # never the check case
    check = record["check"]
    rows = load_rows([manifest], "icsi")
    test = rows[rows["case"] == "case02"]
    assert check["cases"] == ["case02"] and check["images"] == len(test)
    # the recorded IoUs are those of the two files on the check case
    assert check["float32"] == pytest.approx(_mean_iou(OnnxPredictor(f32, threads=1), test), abs=1e-9)
    predictor, info = load_predictor(out, threads=1)
    assert check["int8"] == pytest.approx(_mean_iou(predictor, test), abs=1e-9)
    assert info["quantization"]["check"]["drop"] == pytest.approx(check["float32"] - check["int8"])
    assert predictor.size == OnnxPredictor(f32).size


def test_int8_export_is_refused_when_it_loses_too_much_and_bad_options_are_one_line_errors(
        tiny_phantom, tiny_checkpoint, tmp_path, capsys):
    manifest = tiny_phantom / "manifest.csv"
    out = tmp_path / "model-int8.onnx"
    base = ["export", str(tiny_checkpoint), "--onnx", str(out), "--int8"]
    # a drop of more than -1 (i.e. any result) is too much: refused, nothing written
    assert main(base + ["--calibration", str(manifest), "--check-cases", "case02", "--max-iou-drop", "-1"]) == 2
    err = capsys.readouterr().err
    assert "nothing written" in err and "mean IoU" in err and not out.exists()
    assert main(base) == 2 and "--calibration" in capsys.readouterr().err
    assert main(base + ["--calibration", str(manifest), "--check-cases", "case09"]) == 2
    assert "case01" in capsys.readouterr().err  # lists the valid cases
    assert main(base + ["--calibration", str(manifest), "--check-cases", "case01", "--check-cases", "case02"]) == 2
    assert "no calibration stills" in capsys.readouterr().err
    assert main(["export", str(tiny_checkpoint), "--onnx", str(out), "--calibration", str(manifest)]) == 2
    assert "--int8" in capsys.readouterr().err and not out.exists()
