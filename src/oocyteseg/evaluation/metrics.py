"""Segmentation metrics from a confusion matrix: pixel accuracy, per-class IoU and Dice.

Conventions (used everywhere in oocyteseg):

- `cm[t, p]` counts pixels of true class t predicted as class p (rows = truth, columns = prediction).
- A class that is absent from both the truth and the prediction (TP + FP + FN = 0) has an undefined
  IoU and Dice: NaN. Means over classes (`mean_iou`) ignore NaN, so such a class is left out of that
  average instead of counting as 0 or 1. A class that is absent from the truth but predicted has
  IoU 0 (its false positives are errors).
- Metrics of a set of images (a case, a data set) come from the *summed* confusion matrix of its
  images, i.e. every pixel counts once; they are not averages of per-image scores.

The matrix is counted by torchmetrics; IoU, Dice and accuracy are read from it in float64 (torchmetrics'
own reductions are float32, and its zero_division is a number, not our NaN). Validation during training
uses torchmetrics' MulticlassJaccardIndex with the same NaN convention (training/module.py).
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix


def confusion_matrix(pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray,
                     num_classes: int) -> torch.Tensor:
    """Confusion matrix (num_classes, num_classes) int64 of label maps of any equal shape.

    Target values outside [0, num_classes) (e.g. an ignore index of 255) are not counted; predictions
    must lie in [0, num_classes).
    """
    pred_t = torch.as_tensor(pred)
    target_t = torch.as_tensor(target, device=pred_t.device)
    if pred_t.shape != target_t.shape:
        raise ValueError(f"prediction shape {tuple(pred_t.shape)} != target shape {tuple(target_t.shape)}")
    if pred_t.numel() and (pred_t.min() < 0 or pred_t.max() >= num_classes):
        raise ValueError(f"predictions must lie in [0, {num_classes}), got {int(pred_t.min())}..{int(pred_t.max())}")
    target_t = target_t.long()
    target_t = target_t.masked_fill((target_t < 0) | (target_t >= num_classes), -1)  # not counted
    return multiclass_confusion_matrix(pred_t.long(), target_t, num_classes, ignore_index=-1, validate_args=False)


def _as_array(cm: torch.Tensor | np.ndarray) -> np.ndarray:
    arr = cm.detach().cpu().numpy() if isinstance(cm, torch.Tensor) else np.asarray(cm)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"a confusion matrix is square, got shape {arr.shape}")
    return arr.astype(np.float64)


def iou_from_confusion(cm: torch.Tensor | np.ndarray) -> np.ndarray:
    """Per-class IoU = TP / (TP + FP + FN); NaN where the class is in neither truth nor prediction."""
    arr = _as_array(cm)
    tp = np.diag(arr)
    denom = arr.sum(0) + arr.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, tp / np.where(denom > 0, denom, 1), np.nan)


def dice_from_confusion(cm: torch.Tensor | np.ndarray) -> np.ndarray:
    """Per-class Dice = 2 TP / (2 TP + FP + FN); NaN where the class is in neither truth nor prediction."""
    arr = _as_array(cm)
    tp = np.diag(arr)
    denom = arr.sum(0) + arr.sum(1)
    return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def pixel_accuracy(cm: torch.Tensor | np.ndarray) -> float:
    """Fraction of correctly labelled pixels (NaN for an empty matrix)."""
    arr = _as_array(cm)
    total = arr.sum()
    return float(np.trace(arr) / total) if total > 0 else float("nan")


def nanmean(values: np.ndarray) -> float:
    """Mean ignoring NaN; NaN (not a warning) when every value is NaN."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")


def mean_iou(cm: torch.Tensor | np.ndarray, include_background: bool = False) -> float:
    """Mean of the defined per-class IoUs; class 0 (background) left out unless include_background."""
    iou = iou_from_confusion(cm)
    return nanmean(iou if include_background else iou[1:])


def summarize(cm: torch.Tensor | np.ndarray, class_names: list[str] | tuple[str, ...]) -> dict[str, float]:
    """Flat dict of accuracy, mIoU (foreground and all classes), mean Dice and per-class IoU/Dice."""
    iou, dice = iou_from_confusion(cm), dice_from_confusion(cm)
    out = {"accuracy": pixel_accuracy(cm), "mean_iou": nanmean(iou[1:]), "mean_iou_all": nanmean(iou),
           "mean_dice": nanmean(dice[1:])}
    for name, i, d in zip(class_names, iou, dice):
        out[f"iou_{name}"] = float(i)
        out[f"dice_{name}"] = float(d)
    return out
