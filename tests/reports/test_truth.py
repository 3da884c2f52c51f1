"""Confusion-matrix IoU with golden values worked out by hand; finding ground-truth files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oocyteseg.classes import ICSI
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.metrics import confusion_matrix as _confusion
from oocyteseg.evaluation.metrics import iou_from_confusion
from oocyteseg.reports.truth import find_truth, iou_table


def confusion_matrix(truth, pred, k):
    """The project's confusion matrix (rows = truth) as numpy, truth first as in these tests."""
    return _confusion(pred, truth, k).numpy()


def test_confusion_and_iou_by_hand():
    truth = np.array([[0, 0, 1, 1], [1, 1, 2, 3]])
    pred = np.array([[0, 1, 1, 1], [1, 2, 2, 0]])
    cm = confusion_matrix(truth, pred, 4)
    # rows = truth, columns = prediction
    assert cm.tolist() == [[1, 1, 0, 0], [0, 3, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
    iou = iou_from_confusion(cm)
    # class 1: TP 3, FP 1 (a 0 predicted 1), FN 1 (a 1 predicted 2) -> 3/5; class 2: 1/(1+1+0) = 1/2;
    # class 3: TP 0 -> 0; class 0: TP 1, FP 1, FN 1 -> 1/3
    assert iou.tolist() == pytest.approx([1 / 3, 3 / 5, 1 / 2, 0.0])


def test_absent_class_is_nan_and_table_averages():
    cm_a = confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 1]), 4)
    assert math.isnan(iou_from_confusion(cm_a)[2])
    cm_b = confusion_matrix(np.array([1, 2, 3, 3]), np.array([1, 2, 3, 0]), 4)
    table = iou_table({"case01": cm_a, "case02": cm_b}, ICSI)
    assert list(table.columns) == ["oocyte", "sERC", "needle", "Average"]
    assert table.loc["case02", "needle"] == pytest.approx(0.5)
    assert table.loc["case01", "Average"] == pytest.approx(1.0)  # mean of the classes present
    assert table.loc["Average", "oocyte"] == pytest.approx(1.0)
    assert table.loc["Average", "needle"] == pytest.approx(0.5)


def test_find_truth(tmp_path):
    video = tmp_path / "v" / "case07.mp4"
    video.parent.mkdir()
    video.write_bytes(b"")
    assert find_truth(video, "case07", None) is None
    (tmp_path / "v" / "case07_masks.npz").write_bytes(b"")
    assert find_truth(video, "case07", None) == tmp_path / "v" / "case07_masks.npz"
    gt = tmp_path / "gt" / "deep"
    gt.mkdir(parents=True)
    (gt / "case07_masks.npz").write_bytes(b"")
    assert find_truth(video, "case07", tmp_path / "gt") == gt / "case07_masks.npz"
    with pytest.raises(OocytesegError, match="ground truth not found"):
        find_truth(video, "case07", tmp_path / "nope")
