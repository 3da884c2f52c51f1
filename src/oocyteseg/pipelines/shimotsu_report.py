"""The Shimotsu study's Markdown report: data, settings, Table 2 and Table 3 forms per model, next to the
paper's averages."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from oocyteseg.data.manifest import load_manifest
from oocyteseg.evaluation.tables import table_to_markdown
from oocyteseg.morphometry.compare import table_markdown

if TYPE_CHECKING:
    from oocyteseg.pipelines.shimotsu import ModelOutcome, ShimotsuSettings

# Shimotsu et al. averages (their Tables 2 and 3, real clinical data), printed next to ours.
PAPER_TABLE2_AVG = {"oocyte": 0.98, "sERC": 0.90, "needle": 0.91, "Average": 0.93}
PAPER_TABLE3_AVG = {"f1": (5.53, 6.14), "f2": (11.40, 11.84), "f3": (5.93, 11.41), "f4": (27.64, 22.14)}


def study_report(s: ShimotsuSettings, manifest: Path, outcomes: list[ModelOutcome], videos, seconds: float,
                 runs: int = 1) -> str:
    """The study's Markdown report: data, settings, Table 2 and Table 3 forms per model, the paper's averages."""
    rows = load_manifest(manifest, "icsi")
    counts = rows.groupby("case").size()
    source = f"videos from `{videos}`" if videos else "phantom videos (exact masks drawn as LabelMe polygons)"
    parts = [f"# Shimotsu et al. study: {source}", "",
             f"{len(counts)} cases, {len(rows)} annotated stills at {s.fps:g} fps "
             f"({', '.join(f'{c}: {n}' for c, n in counts.items())}). Leave-one-case-out; each fold is evaluated with its "
             f"last model. Steps per fold: {s.steps()} (25,000 x budget {s.budget:g}). Total time {seconds / 60:.1f} min"
             + (f" over {runs} runs of this folder (--resume)." if runs > 1 else "."),
             "", "Paper (real clinical data, DeepLab ResNet-50, 25,000 steps) Table 2 average row: "
             + ", ".join(f"{k} {v:.2f}" for k, v in PAPER_TABLE2_AVG.items())
             + "; Table 3 AVG row (relative error %, AVG/SD): "
             + ", ".join(f"{k} {a:.2f}/{b:.2f}" for k, (a, b) in PAPER_TABLE3_AVG.items()) + ".", ""]
    for o in outcomes:
        pooled = ", ".join(f"{k} {v:.3f}" for k, v in o.overall.items() if isinstance(v, float))
        parts += [f"## {o.model} ({o.steps} steps per fold)", "",
                  table_to_markdown(o.table2, title="Table 2 form: IoU per case (test case of each fold)"),
                  f"Pooled over every test pixel: {pooled}.", "",
                  "**Table 3 form: relative error of the features, automatic vs manual masks (%)**", "",
                  table_markdown(o.table3), "",
                  _tip_line(o.tip_error),
                  _serc_line(o.table2), "",
                  f"Per-frame values, absolute errors and Bland-Altman plots: `{o.model}/features/`.", ""]
    parts += ["Files: `dataset/manifest.csv`, `<model>/cv/` (splits.json, folds, learning curves), "
              "`<model>/cv/fold-XX/test/predictions/`, `<model>/features/`, `study.json`.", ""]
    return "\n".join(parts)


def _tip_line(tip: dict) -> str:
    if not tip or not tip.get("n"):
        return "Needle tip: no frame has a tip in both the automatic and the manual mask."
    return (f"Needle tip (automatic vs manual mask, the point f3/f4 are measured from): median error "
            f"{tip['median']:.2f} px, mean {tip['mean']:.2f} px, 90th percentile {tip['p90']:.2f} px over {tip['n']} "
            f"stills; {tip['one_sided']} stills have a tip in only one of the two masks.")


def _serc_line(table2: pd.DataFrame) -> str:
    cases = table2[table2["case"] != "Average"]
    if "sERC" not in cases:
        return ""
    v = cases.set_index("case")["sERC"].astype(float).dropna()
    low = {c: round(x, 3) for c, x in v.items() if x < 0.80}
    return (f"sERC IoU >= 0.80 in {len(v) - len(low)} of the {len(v)} cases that have an sERC"
            + (f"; below: {', '.join(f'{c} {x:.3f}' for c, x in low.items())}." if low else "."))


def table2_average(table2: pd.DataFrame) -> float:
    """The Average column of the Average row (NaN when absent)."""
    v = table2.loc[table2["case"] == "Average", "Average"]
    return float(v.iloc[0]) if len(v) else math.nan
