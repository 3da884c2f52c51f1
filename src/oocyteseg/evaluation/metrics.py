"""Segmentation metrics (public API): confusion matrix, pixel accuracy, per-class IoU and Dice.

The implementation lives in `oocyteseg.training.metrics` because validation during training needs it
and training sits left of evaluation in the data flow; this module is where users and later stages
import it from. See that module for the conventions (NaN for a class absent from truth and prediction,
data-set metrics from the summed confusion matrix).
"""

from oocyteseg.training.metrics import (
    confusion_matrix,
    dice_from_confusion,
    iou_from_confusion,
    mean_iou,
    nanmean,
    pixel_accuracy,
    summarize,
)

__all__ = ["confusion_matrix", "dice_from_confusion", "iou_from_confusion", "mean_iou", "nanmean", "pixel_accuracy",
           "summarize"]
