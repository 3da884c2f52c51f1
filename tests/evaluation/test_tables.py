"""The seed papers' table layouts: Shimotsu Table 2 (cases x classes) and Andreini Table 2 (regimes)."""

import math

import numpy as np
import pytest

from oocyteseg.evaluation.tables import overall_row, per_case_iou_table, regime_table, table_to_markdown

NAMES = ["background", "oocyte", "sERC", "needle"]


def _cm(diag, off=0):
    cm = np.diag(np.asarray(diag, np.int64))
    cm[0, 1:] += off
    return cm


def test_per_case_table_layout_and_averages():
    cms = {"case1": _cm([100, 10, 10, 10]), "case2": _cm([100, 10, 0, 10], off=10)}
    t = per_case_iou_table(cms, NAMES)
    assert list(t.columns) == ["case", "oocyte", "sERC", "needle", "Average"]
    assert list(t["case"]) == ["case1", "case2", "Average"]
    assert t.loc[0, "Average"] == 1.0
    # case2: oocyte 10/20, sERC absent from truth but predicted (10 FP) -> 0, needle 10/20
    assert t.loc[1, ["oocyte", "sERC", "needle"]].tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert t.loc[1, "Average"] == pytest.approx(1 / 3)
    assert t.loc[2, "oocyte"] == pytest.approx(0.75)  # mean of the case rows


def test_absent_class_in_a_case_is_nan_and_skipped_by_averages():
    cms = {"a": _cm([100, 10, 0, 10]), "b": _cm([100, 10, 10, 10])}
    t = per_case_iou_table(cms, NAMES)
    assert math.isnan(t.loc[0, "sERC"])
    assert t.loc[0, "Average"] == 1.0          # mean of oocyte and needle only
    assert t.loc[2, "sERC"] == 1.0             # the Average row skips case a
    assert "n/a" in table_to_markdown(t)


def test_overall_row_pools_pixels():
    cms = [_cm([100, 10, 10, 10]), _cm([100, 10, 10, 10], off=10)]
    row = overall_row(sum(cms), NAMES)
    assert row["oocyte"] == pytest.approx(20 / 30)


def test_regime_table():
    t = regime_table({"Real": np.array([[90, 5], [5, 0]]), "Synthetic": np.array([[95, 0], [0, 5]])})
    assert list(t.columns) == ["Trained on", "Accuracy", "Mean IoU"]
    assert t.loc[0, "Accuracy"] == pytest.approx(0.9)
    assert t.loc[0, "Mean IoU"] == pytest.approx((90 / 100 + 0) / 2)  # background included
    assert t.loc[1, "Mean IoU"] == 1.0


def test_markdown_format():
    md = table_to_markdown(per_case_iou_table({"c": _cm([5, 5, 5, 5])}, NAMES), digits=2, title="T")
    lines = md.strip().splitlines()
    assert lines[0] == "**T**"
    assert lines[2] == "|  | oocyte | sERC | needle | Average |"
    assert lines[4] == "| c | 1.00 | 1.00 | 1.00 | 1.00 |"
