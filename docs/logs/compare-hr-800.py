"""Per fold: training seconds and the held-out case's IoUs, the study at 700 steps per fold
(runs/results/shimotsu-hr-fast, 2026-12-07 12:40) against the same command at 800 steps (`--budget 0.032`,
channels-last training; runs/results/shimotsu-hr-800, 2026-12-07 18:51). Run from the repo root:
    .venv/bin/python docs/logs/compare-hr-800.py
"""
import json
from pathlib import Path

import pandas as pd

OLD, NEW = Path("runs/results/shimotsu-hr-fast/hr-crops-cpu/cv"), Path("runs/results/shimotsu-hr-800/hr-crops-cpu/cv")


def fold_rows(cv: Path) -> pd.DataFrame:
    rows = []
    for done in sorted(cv.glob("fold-*/done.json")):
        d = json.loads(done.read_text())
        iou = pd.read_csv(done.parent / "test" / "per_case_iou.csv").set_index("case").loc[d["test"][0]]
        rows.append({"case": d["test"][0], "s": d["seconds"], **{k: float(iou[k]) for k in ("sERC", "needle", "Average")}})
    return pd.DataFrame(rows).set_index("case")


old, new = fold_rows(OLD), fold_rows(NEW)
table = pd.merge(old, new, left_index=True, right_index=True, suffixes=(" 700", " 800"))
print(table.round(3).to_string())
print(f"\nfolds {len(table)}: training s mean 700 {table['s 700'].mean():.0f} 800 {table['s 800'].mean():.0f}; "
      f"mean IoU 700 {table['Average 700'].mean():.4f} 800 {table['Average 800'].mean():.4f}; "
      f"sERC 700 {table['sERC 700'].mean():.4f} 800 {table['sERC 800'].mean():.4f}; "
      f"cases where 800 is higher: {(table['Average 800'] > table['Average 700']).sum()} of {len(table)}")
