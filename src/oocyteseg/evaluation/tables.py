"""Result tables in the form of the seed papers, as DataFrames, CSV and Markdown.

- Shimotsu et al. Table 2 (`per_case_iou_table`): rows = cases then "Average"; columns = the
  foreground classes then "Average". A case's IoU of a class comes from that case's summed confusion
  matrix; "Average" in a row is the mean of the defined (non-NaN) class IoUs of that row; the
  "Average" row is the mean over cases of each column, NaN cases left out (as the paper's bottom row
  is the mean of the case rows). The pooled value over every pixel is `overall_row`.
- Andreini et al. Table 2 (`regime_table`): rows = training regimes ("Real", "Synthetic",
  "Real + Synthetic"...); columns = "Accuracy" (pixel accuracy) and "Mean IoU" (mean over all classes,
  background included, from the summed confusion matrix of the test set).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from oocyteseg.evaluation.metrics import iou_from_confusion, nanmean, pixel_accuracy


def per_case_iou_table(case_cms: Mapping[str, np.ndarray], class_names: Sequence[str],
                       include_background: bool = False) -> pd.DataFrame:
    """Shimotsu-style table: per case per class IoU, row "Average" column "Average" (see module doc)."""
    first = 0 if include_background else 1
    names = list(class_names)[first:]
    rows = []
    for case, cm in case_cms.items():
        iou = iou_from_confusion(cm)[first:]
        rows.append({"case": str(case), **dict(zip(names, iou)), "Average": nanmean(iou)})
    table = pd.DataFrame(rows, columns=["case", *names, "Average"])
    avg = {"case": "Average", **{c: nanmean(table[c].to_numpy()) for c in [*names, "Average"]}}
    return pd.concat([table, pd.DataFrame([avg])], ignore_index=True)


def overall_row(cm: np.ndarray, class_names: Sequence[str], label: str = "All pixels",
                include_background: bool = False) -> dict[str, float | str]:
    """A row of the per-case table computed from a summed confusion matrix."""
    first = 0 if include_background else 1
    iou = iou_from_confusion(cm)[first:]
    return {"case": label, **dict(zip(list(class_names)[first:], iou)), "Average": nanmean(iou)}


def regime_table(regime_cms: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Andreini-style table: one row per regime with pixel Accuracy and Mean IoU (all classes)."""
    rows = [{"Trained on": name, "Accuracy": pixel_accuracy(cm), "Mean IoU": nanmean(iou_from_confusion(cm))}
            for name, cm in regime_cms.items()]
    return pd.DataFrame(rows, columns=["Trained on", "Accuracy", "Mean IoU"])


def _fmt(v: object, digits: int) -> str:
    if isinstance(v, float | np.floating):
        return "n/a" if math.isnan(v) else f"{v:.{digits}f}"
    return str(v)


def table_to_markdown(table: pd.DataFrame, digits: int = 2, title: str = "", note: str = "") -> str:
    """A GitHub Markdown table (NaN shown as n/a), with an optional title line and note."""
    header = "| " + " | ".join("" if c == "case" else str(c) for c in table.columns) + " |"
    sep = "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(table.columns))) + "|"
    body = ["| " + " | ".join(_fmt(v, digits) for v in row) + " |" for row in table.itertuples(index=False)]
    parts = ([f"**{title}**", ""] if title else []) + [header, sep, *body]
    if note:
        parts += ["", note]
    return "\n".join(parts) + "\n"
