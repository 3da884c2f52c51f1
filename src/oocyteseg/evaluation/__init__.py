"""Metrics, model evaluation per case, result tables in the seed papers' form, cross-validation driver."""

from oocyteseg.evaluation.crossval import CVResult, cross_validate
from oocyteseg.evaluation.evaluate import EvalResult, evaluate_checkpoint, evaluate_model, write_evaluation
from oocyteseg.evaluation.metrics import (
    confusion_matrix,
    dice_from_confusion,
    iou_from_confusion,
    mean_iou,
    pixel_accuracy,
)
from oocyteseg.evaluation.tables import per_case_iou_table, regime_table, table_to_markdown

__all__ = ["CVResult", "EvalResult", "confusion_matrix", "cross_validate", "dice_from_confusion", "evaluate_checkpoint",
           "evaluate_model", "iou_from_confusion", "mean_iou", "per_case_iou_table", "pixel_accuracy", "regime_table",
           "table_to_markdown", "write_evaluation"]
