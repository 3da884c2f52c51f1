"""Other models on some folds of a finished Shimotsu study: per-case IoU, f1-f4 errors and needle-tip error
against the study's own fold models, on the same held-out stills.

A full study costs 11 trainings; a recipe change can first be tried on the folds it is meant to fix. Train a
variant with a fold's saved config (same training cases, seed and steps), e.g.
    oocyteseg train --config STUDY/MODEL/cv/fold-03/config.yaml --out runs/exp/hr/case04 \
        --set model.name=unet_effnet_lite0_hr --set data.size=[480,640]
then compare (each model predicts its held-out case through the one preprocessing path; "study" is the
fold model Table 2 scored, so its rows reproduce Table 2 and Table 3 for those cases):
    PYTHONPATH=src python benchmarks/fold_models.py --study runs/results/shimotsu \
        --variant hr=runs/exp/hr/{case}/model-last.pt --cases case04 case06
A case whose variant checkpoint is missing is an error naming it (never a silent skip).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.evaluation.evaluate import evaluate_checkpoint  # noqa: E402
from oocyteseg.evaluation.metrics import iou_from_confusion  # noqa: E402
from oocyteseg.evaluation.tables import table_to_markdown  # noqa: E402
from oocyteseg.io.images import read_mask  # noqa: E402
from oocyteseg.morphometry.compare import compare, tip_error_summary  # noqa: E402
from oocyteseg.morphometry.table import features_table  # noqa: E402
from oocyteseg.training.config import load_config  # noqa: E402
from oocyteseg.training.cv import fold_model  # noqa: E402

FEATURES = ("f1", "f2", "f3", "f4")


def study_models(cv_dir: Path) -> dict[str, Path]:
    """Held-out case -> the fold model the study tested it with."""
    out = {}
    for fold in sorted(cv_dir.glob("fold-*")):
        (case,) = json.loads((fold / "data.json").read_text())["val_cases"]
        out[case] = fold_model(load_config(fold / "config.yaml"), fold)
    return out


def score(model: Path, rows: pd.DataFrame) -> dict[str, float]:
    """IoU per class (pooled over the case's stills), mean f1-f4 relative errors (%) and tip error (px)."""
    rows = rows.reset_index(drop=True)
    result, _ = evaluate_checkpoint(model, rows=rows, device="cpu", keep_predictions=True)
    return score_predictions(result.predictions, rows, result.class_names, result.overall_cm)


def score_predictions(predictions: list[np.ndarray], rows: pd.DataFrame, names: list[str],
                      cm: np.ndarray) -> dict[str, float]:
    """`score` from index masks already predicted for `rows` and their confusion matrix `cm` (pooled)."""
    rows = rows.reset_index(drop=True)
    iou = iou_from_confusion(cm)
    truths = [read_mask(p) for p in rows["mask_path"]]
    meta = [{"case": r.case, "video": r.video, "frame_index": int(r.frame_index), "time_s": r.time_s,
             "labelset": "icsi"} for r in rows.itertuples(index=False)]
    per_frame, _ = compare(features_table(zip(meta, predictions)), features_table(zip(meta, truths)))
    rel = {f: float(per_frame[f"{f}_rel"].mean()) for f in FEATURES if f"{f}_rel" in per_frame}
    tip = tip_error_summary(per_frame)
    ious = {names[c]: float(iou[c]) for c in range(1, len(names))}
    return {**ious, "mean IoU": float(np.mean(list(ious.values()))), **rel,
            "tip mean px": tip["mean"], "tip median px": tip["median"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default=str(ROOT / "runs" / "results" / "shimotsu"))
    ap.add_argument("--model", default="unet_effnet_lite0", help="the study's model folder")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=PATTERN",
                    help="checkpoint path with {case} for the held-out case (repeatable)")
    ap.add_argument("--cases", nargs="+", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="CSV of the rows (optional)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    study = Path(args.study)
    if not (study / "dataset" / "manifest.csv").is_file() or not (study / args.model / "cv").is_dir():
        sys.exit(f"{study}: no finished Shimotsu study with {args.model} folds here; run `make results-shimotsu` "
                 "or give --study and --model")
    rows = load_manifest(study / "dataset" / "manifest.csv", "icsi")
    rows = rows[rows["mask_path"] != ""]
    folds = study_models(study / args.model / "cv")
    variants = {"study": None}
    for v in args.variant:
        name, sep, pattern = v.partition("=")
        if not sep or "{case}" not in pattern:
            sys.exit(f"--variant {v!r}: give NAME=PATH with {{case}} in the path")
        variants[name] = pattern
    records = []
    for case in args.cases:
        if case not in folds:
            sys.exit(f"{case}: not a held-out case of {study / args.model / 'cv'} (cases: {', '.join(sorted(folds))})")
        case_rows = rows[rows["case"] == case]
        for name, pattern in variants.items():
            path = folds[case] if pattern is None else Path(pattern.format(case=case))
            if not path.is_file():
                sys.exit(f"{path}: no checkpoint for {name} on {case}; train it first (see this file's docstring)")
            records.append({"case": case, "model": name, **score(path, case_rows)})
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in records[-1].items()}, flush=True)
    report(records, args.out, f"per case ({study}, {args.model} folds as 'study')",
           f"mean over {len(args.cases)} cases: {', '.join(args.cases)}")


def report(records: list[dict], out: str | None, title: str, mean_title: str) -> pd.DataFrame:
    """Print the rows per case and their mean per model as Markdown tables; write them as CSV to `out`."""
    df = pd.DataFrame(records)
    if out:
        df.to_csv(out, index=False)
    cols = [c for c in df.columns if c not in ("case", "model")]
    means = df.groupby("model", sort=False)[cols].mean().reset_index()
    print("\n" + table_to_markdown(df, digits=3, title=title))
    print(table_to_markdown(means, digits=3, title=mean_title))
    return df


if __name__ == "__main__":
    main()
