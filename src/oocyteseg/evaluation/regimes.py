"""Compare training regimes on one test set (Andreini et al. Table 2: rows = regimes, Accuracy, Mean IoU).

Regimes are any models evaluated on the same rows, e.g. "Real" (trained on real images), "Synthetic"
(trained on synthetic images) and "Real + Synthetic" (pre-trained on synthetic, fine-tuned on real).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from oocyteseg.evaluation.evaluate import evaluate_checkpoint
from oocyteseg.evaluation.tables import regime_table, table_to_markdown
from oocyteseg.io.atomic import check_writable, write_table, write_text


def compare_regimes(checkpoints: Mapping[str, str | os.PathLike], manifest: str | os.PathLike, *,
                    cases: Sequence[str] | None = None, batch_size: int = 4, device: str = "cpu",
                    tta: str | None = None) -> pd.DataFrame:
    """Evaluate each named model on the same manifest rows (with test-time augmentation `tta`, the same for
    every model); one table row per regime (in the given order)."""
    cms = {}
    for name, ckpt in checkpoints.items():
        result, _ = evaluate_checkpoint(ckpt, manifest, cases=cases, batch_size=batch_size, device=device, tta=tta)
        cms[name] = result.overall_cm
    return regime_table(cms)


def write_regime_table(table: pd.DataFrame, out_dir: str | os.PathLike, overwrite: bool = False,
                       title: str = "Segmentation performance with real images as test set") -> tuple[Path, Path]:
    """regimes.csv and regimes.md (4 decimals, as in the paper)."""
    out_dir = Path(out_dir)
    csv, md = out_dir / "regimes.csv", out_dir / "regimes.md"
    check_writable(csv, overwrite)
    check_writable(md, overwrite)
    write_table(table, csv)
    note = "Accuracy: fraction of correct pixels; Mean IoU: mean over all classes (background included)."
    write_text(md, table_to_markdown(table, digits=4, title=title, note=note))
    return csv, md
