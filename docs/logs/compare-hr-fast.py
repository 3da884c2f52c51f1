"""Per fold: training seconds and the held-out case's IoUs, the 2026-12-07 morning study (runs/results/shimotsu-hr)
against the same command with the faster loss/arg-max code (runs/results/shimotsu-hr-fast). Run from the repo root:
    .venv/bin/python docs/logs/compare-hr-fast.py
"""
import json
from pathlib import Path

import pandas as pd

OLD, NEW = Path("runs/results/shimotsu-hr/hr-crops-cpu/cv"), Path("runs/results/shimotsu-hr-fast/hr-crops-cpu/cv")


def fold_rows(cv: Path) -> pd.DataFrame:
    rows = []
    for done in sorted(cv.glob("fold-*/done.json")):
        d = json.loads(done.read_text())
        iou = pd.read_csv(done.parent / "test" / "per_case_iou.csv").set_index("case").loc[d["test"][0]]
        rows.append({"case": d["test"][0], "s": d["seconds"], **{k: float(iou[k]) for k in ("sERC", "needle", "Average")}})
    return pd.DataFrame(rows).set_index("case")


old, new = fold_rows(OLD), fold_rows(NEW)
table = pd.merge(old, new, left_index=True, right_index=True, suffixes=(" old", " new"))
print(table.round(3).to_string())
print(f"\nfolds {len(table)}: training s mean old {table['s old'].mean():.0f} new {table['s new'].mean():.0f}; "
      f"mean IoU old {table['Average old'].mean():.4f} new {table['Average new'].mean():.4f}; "
      f"sERC old {table['sERC old'].mean():.4f} new {table['sERC new'].mean():.4f}")
