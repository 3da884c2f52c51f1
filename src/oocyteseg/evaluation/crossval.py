"""`cross_validate`: train every fold (resumable), evaluate each fold's model on its test cases, and
aggregate a per-case table over all folds (Shimotsu et al. Table 2) plus a mean learning curve.

Model choice: by default each fold validates on its test case(s) during training (for the learning
curve), so its best-by-validation checkpoint would be chosen by looking at the test data; the test
evaluation then uses the fold's last model (`model-last.pt`), trained for the configured number of
steps as in the paper. With `data.val_holdout: N` a fold validates on N of its training cases instead
(held out of training), and its best model by that validation (`model.pt`, also what early stopping
watches) is the one tested.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from lightning.pytorch.utilities import rank_zero_only

from oocyteseg.classes import LabelSet
from oocyteseg.data.splits import Fold, Splits
from oocyteseg.evaluation.evaluate import evaluate_checkpoint, write_evaluation
from oocyteseg.evaluation.metrics import summarize
from oocyteseg.evaluation.tables import overall_row, per_case_iou_table, table_to_markdown
from oocyteseg.io.atomic import write_json, write_table, write_text
from oocyteseg.training.config import TrainConfig
from oocyteseg.training.curves import mean_curves, plot_curves
from oocyteseg.training.cv import fold_model, train_folds
from oocyteseg.training.data import load_rows

TEST_DIR = "test"


@dataclass
class CVResult:
    """Outputs of a cross-validation."""

    out_dir: Path
    splits: Splits
    table: pd.DataFrame  # per case per class IoU, "Average" row and column
    table_csv: Path
    table_md: Path
    overall: dict[str, float]  # metrics of the summed confusion matrix of every test pixel
    case_cms: dict[str, np.ndarray]
    rank: int = 0  # DDP: only rank 0's result holds the tables


def evaluate_fold(config: TrainConfig, fold: Fold, fold_path: Path, batch_size: int = 4,
                  device: str = "cpu") -> dict[str, np.ndarray]:
    """Evaluate the fold's last model on its test cases (cached in fold-XX/test/); case -> confusion matrix.

    The predicted label maps are kept (fold-XX/test/predictions/, listed in predictions.csv), so the
    measurements made from them (the Shimotsu features) come from the very predictions that were scored.
    """
    overall = fold_path / TEST_DIR / "overall.json"
    if not overall.is_file():
        rows = _test_rows(config, fold)
        result, _ = evaluate_checkpoint(fold_model(config, fold_path), rows=rows, batch_size=batch_size, device=device,
                                        keep_predictions=True)
        write_predictions(rows, result.predictions or [], fold_path / TEST_DIR, config.data.label_set())
        write_evaluation(result, fold_path / TEST_DIR, overwrite=True, title=f"fold {fold.index}")
    saved = json.loads(overall.read_text())
    return {c: np.asarray(cm, np.int64) for c, cm in saved["case_confusion_matrices"].items()}


PREDICTIONS = "predictions.csv"


def write_predictions(rows: pd.DataFrame, predictions: list[np.ndarray], out: Path, labels: LabelSet) -> Path:
    """Each prediction as an index-mask PNG (out/predictions/<case>/<mask name>) and predictions.csv
    mapping each row's image_path to it."""
    from oocyteseg.io.images import write_mask

    colors = list(labels.colors)
    table = []
    for row, pred in zip(rows.itertuples(index=False), predictions):
        rel = Path("predictions") / str(row.case) / Path(row.mask_path).name
        write_mask(out / rel, pred, colors, overwrite=True)
        table.append({"case": row.case, "image_path": row.image_path, "prediction": str(rel)})
    return write_table(pd.DataFrame(table), out / PREDICTIONS)


def read_predictions(cv_dir: str | os.PathLike) -> dict[str, Path]:
    """image_path -> predicted mask PNG, over every fold's test predictions of a CV folder."""
    out: dict[str, Path] = {}
    for table in sorted(Path(cv_dir).glob(f"fold-*/{TEST_DIR}/{PREDICTIONS}")):
        for row in pd.read_csv(table).itertuples(index=False):
            out[str(row.image_path)] = table.parent / str(row.prediction)
    return out


def _test_rows(config: TrainConfig, fold: Fold) -> pd.DataFrame:
    rows = load_rows(config.data.manifests, config.data.label_set().name)
    return rows[rows["case"].isin(list(fold.test))].reset_index(drop=True)


def cross_validate(config: TrainConfig, folds: str | int, out_dir: str | os.PathLike, *, resume: bool = False,
                   overwrite: bool = False, progress: bool = True, device: str = "cpu") -> CVResult:
    """Run (or finish) a cross-validation in out_dir and write its tables.

    Args:
        config: training config; its data.manifests' cases are split.
        folds: "leave-one-case-out" or a number of folds K (seeded with config.seed).
        out_dir: CV folder (splits.json, fold-XX/, per_case_iou.csv/.md, overall.json, learning_curve.*).
        resume: continue an interrupted fold from its last checkpoint.
        overwrite: draw new splits and retrain every fold.
        device: where the test evaluation runs.
    """
    out_dir = Path(out_dir)
    case_cms: dict[str, np.ndarray] = {}

    rank0 = rank_zero_only.rank == 0  # DDP: every rank trains, rank 0 evaluates and writes the tables

    def on_fold(fold: Fold, path: Path) -> None:
        if not rank0:
            return
        if overwrite:
            (path / TEST_DIR / "overall.json").unlink(missing_ok=True)
        case_cms.update(evaluate_fold(config, fold, path, config.optim.batch_size, device))

    splits = train_folds(config, folds, out_dir, resume=resume, overwrite=overwrite, progress=progress,
                         on_fold=on_fold)
    names = list(config.data.label_set().classes)
    if not rank0:
        return CVResult(out_dir, splits, pd.DataFrame(), out_dir / "per_case_iou.csv", out_dir / "per_case_iou.md",
                        {}, {}, rank=rank_zero_only.rank)
    ordered = {c: case_cms[c] for c in splits.cases if c in case_cms}
    table = per_case_iou_table(ordered, names)
    total = np.sum(list(ordered.values()), axis=0)
    pooled = pd.DataFrame([overall_row(total, names)])
    table_csv = write_table(table, out_dir / "per_case_iou.csv")
    note = (f"{splits.method} ({len(splits.folds)} folds), model {config.model.name}, {config.optim.max_steps} steps, "
            f"size {config.data.size[0]}x{config.data.size[1]}. Pooled over all test pixels: "
            + ", ".join(f"{k} {v:.3f}" for k, v in pooled.iloc[0].items() if k != "case") + ".")
    table_md = write_text(out_dir / "per_case_iou.md", table_to_markdown(table, title="IoU per case", note=note))
    overall = summarize(total, names)
    write_json(out_dir / "overall.json", {"metrics": overall, "class_names": names, "confusion_matrix": total.tolist(),
                                          "folds": len(splits.folds), "method": splits.method})
    curves = [pd.read_csv(p) for p in sorted(out_dir.glob("fold-*/learning_curve.csv"))]
    if curves:
        mean = mean_curves(curves)
        write_table(mean, out_dir / "learning_curve.csv")
        plot_curves(mean, out_dir / "learning_curve.png", title=f"mean of {len(curves)} folds")
    return CVResult(out_dir, splits, table, table_csv, table_md, overall, ordered)
