"""Golden values for the confusion-matrix metrics (matrices written out by hand)."""

import math

import numpy as np
import pytest
import torch

from oocyteseg.evaluation.metrics import (
    confusion_matrix,
    dice_from_confusion,
    iou_from_confusion,
    mean_iou,
    pixel_accuracy,
    summarize,
)


def test_confusion_matrix_counts_truth_rows_prediction_columns():
    target = torch.tensor([[0, 0, 1], [1, 2, 2]])
    pred = torch.tensor([[0, 1, 1], [1, 2, 0]])
    cm = confusion_matrix(pred, target, 3)
    expected = [[1, 1, 0],   # truth 0: one right, one called 1
                [0, 2, 0],   # truth 1: both right
                [1, 0, 1]]   # truth 2: one called 0, one right
    assert cm.tolist() == expected


def test_confusion_matrix_skips_targets_outside_the_classes():
    cm = confusion_matrix(np.array([0, 1, 1]), np.array([0, 255, 1]), 2)
    assert cm.tolist() == [[1, 0], [0, 1]]


def test_confusion_matrix_rejects_bad_predictions_and_shapes():
    with pytest.raises(ValueError):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), 2)
    with pytest.raises(ValueError):
        confusion_matrix(np.zeros((2, 2)), np.zeros((2, 3)), 2)


def test_hand_written_matrix():
    # truth rows, prediction columns
    cm = np.array([[50, 2, 3],
                   [4, 30, 1],
                   [0, 5, 5]])
    # class 0: TP 50, FP 4, FN 5 -> 50/59 ; class 1: TP 30, FP 7, FN 5 -> 30/42 ; class 2: TP 5, FP 4, FN 5 -> 5/14
    assert iou_from_confusion(cm) == pytest.approx([50 / 59, 30 / 42, 5 / 14])
    assert dice_from_confusion(cm) == pytest.approx([100 / 109, 60 / 72, 10 / 19])
    assert pixel_accuracy(cm) == pytest.approx(85 / 100)
    assert mean_iou(cm) == pytest.approx((30 / 42 + 5 / 14) / 2)  # foreground classes only
    assert mean_iou(cm, include_background=True) == pytest.approx((50 / 59 + 30 / 42 + 5 / 14) / 3)


def test_perfect_prediction_scores_one():
    rng = np.random.default_rng(0)
    target = rng.integers(0, 4, size=(3, 20, 30))
    cm = confusion_matrix(target, target, 4)
    assert pixel_accuracy(cm) == 1.0
    assert np.all(iou_from_confusion(cm) == 1.0)
    assert np.all(dice_from_confusion(cm) == 1.0)


def test_absent_class_is_nan_and_left_out_of_the_mean():
    # class 2 is in neither truth nor prediction: undefined, not 0 and not 1
    cm = np.array([[8, 2, 0], [1, 4, 0], [0, 0, 0]])
    iou = iou_from_confusion(cm)
    assert math.isnan(iou[2]) and math.isnan(dice_from_confusion(cm)[2])
    assert mean_iou(cm) == pytest.approx(4 / 7)


def test_absent_from_truth_but_predicted_counts_as_zero():
    cm = np.array([[8, 0, 2], [0, 5, 0], [0, 0, 0]])
    assert iou_from_confusion(cm)[2] == 0.0
    assert mean_iou(cm) == pytest.approx(0.5)


def test_empty_matrix_gives_nan_not_errors():
    cm = np.zeros((3, 3), np.int64)
    assert math.isnan(pixel_accuracy(cm)) and math.isnan(mean_iou(cm))


def test_summed_matrix_is_not_the_mean_of_images():
    a = np.array([[90, 0], [0, 10]])   # IoU of class 1: 1.0
    b = np.array([[0, 0], [10, 90]])   # IoU of class 1: 0.9
    pooled = iou_from_confusion(a + b)[1]
    assert pooled == pytest.approx(100 / 110)
    assert pooled != pytest.approx((1.0 + 0.9) / 2)


def test_summarize_has_named_columns():
    s = summarize(np.array([[3, 1], [0, 4]]), ["background", "inclusion"])
    assert s["iou_inclusion"] == pytest.approx(0.8) and s["accuracy"] == pytest.approx(7 / 8)
    assert s["mean_iou"] == pytest.approx(0.8) and s["mean_iou_all"] == pytest.approx((0.75 + 0.8) / 2)
