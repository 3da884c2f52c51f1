"""Per fold: training seconds and the held-out case's IoUs of two runs of the Shimotsu study. Run from the repo root:
    .venv/bin/python docs/logs/compare-hr-fast.py            # the 2026-12-07 morning study (runs/results/shimotsu-hr,
                                                             # since renamed shimotsu-hr-morning) against the same
                                                             # command with the faster loss/arg-max code (shimotsu-hr-fast)
    .venv/bin/python docs/logs/compare-hr-fast.py runs/results/shimotsu-hr-fast runs/results/shimotsu-hr-800 700 800
"""
import json
import sys
from pathlib import Path

import pandas as pd

args = sys.argv[1:] + ["runs/results/shimotsu-hr-morning", "runs/results/shimotsu-hr-fast", "old", "new"][len(sys.argv[1:]):]
OLD, NEW = (Path(a) / "hr-crops-cpu" / "cv" for a in args[:2])
A, B = args[2:4]


def fold_rows(cv: Path) -> pd.DataFrame:
    rows = []
    for done in sorted(cv.glob("fold-*/done.json")):
        d = json.loads(done.read_text())
        iou = pd.read_csv(done.parent / "test" / "per_case_iou.csv").set_index("case").loc[d["test"][0]]
        rows.append({"case": d["test"][0], "s": d["seconds"], **{k: float(iou[k]) for k in ("sERC", "needle", "Average")}})
    return pd.DataFrame(rows).set_index("case")


old, new = fold_rows(OLD), fold_rows(NEW)
table = pd.merge(old, new, left_index=True, right_index=True, suffixes=(f" {A}", f" {B}"))
print(table.round(3).to_string())
print(f"\nfolds {len(table)}: training s mean {A} {table[f's {A}'].mean():.0f} {B} {table[f's {B}'].mean():.0f}; "
      f"mean IoU {A} {table[f'Average {A}'].mean():.4f} {B} {table[f'Average {B}'].mean():.4f}; "
      f"sERC {A} {table[f'sERC {A}'].mean():.4f} {B} {table[f'sERC {B}'].mean():.4f}; "
      f"cases where {B} is higher: {(table[f'Average {B}'] > table[f'Average {A}']).sum()} of {len(table)}")
