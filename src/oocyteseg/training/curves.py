"""Learning curves: Lightning's CSV log -> a tidy per-step table (CSV) and a two-panel PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oocyteseg.io.atomic import atomic_path, write_table

COLUMNS = {"train/loss": "train_loss", "train/mIoU": "train_miou", "val/loss": "val_loss",
           "val/mIoU": "val_miou", "val/accuracy": "val_accuracy", "lr": "lr"}


def keep_previous_log(log_dir: str | os.PathLike) -> None:
    """Before a resumed run: move metrics.csv to metrics-partNN.csv (Lightning's CSV logger deletes it)."""
    log_dir = Path(log_dir)
    current = log_dir / "metrics.csv"
    if current.is_file():
        n = len(list(log_dir.glob("metrics-part*.csv"))) + 1
        current.rename(log_dir / f"metrics-part{n:02d}.csv")


def metrics_files(log_dir: str | os.PathLike) -> list[Path]:
    """The CSV logs of a run in order: earlier parts (before resumes), then the current one."""
    log_dir = Path(log_dir)
    return sorted(log_dir.glob("metrics-part*.csv")) + [p for p in [log_dir / "metrics.csv"] if p.is_file()]


def read_lightning_metrics(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> pd.DataFrame:
    """One row per step with columns step + COLUMNS values (NaN where not logged at that step).

    Several files (the parts of a resumed run) are read in order; a step logged twice (after the last
    checkpoint, before an interruption) keeps its latest value.
    """
    files = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    df = pd.concat([pd.read_csv(p) for p in files], ignore_index=True)
    out = pd.DataFrame({"step": df["step"].astype(int)})
    for src, dst in COLUMNS.items():
        for name in (src, f"{src}_epoch", f"{src}_step"):
            if name in df.columns:
                out[dst] = df[name].combine_first(out[dst]) if dst in out else df[name]
    for dst in COLUMNS.values():
        if dst not in out:
            out[dst] = float("nan")
    out = out.groupby("step", as_index=False).last()
    return out[["step", *COLUMNS.values()]]


def plot_curves(curves: pd.DataFrame, path: str | os.PathLike, title: str = "", overwrite: bool = True) -> Path:
    """Loss (train, val) and mIoU (train, val) against steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric, label in ((ax_loss, "loss", "loss"), (ax_iou, "miou", "mean IoU (foreground)")):
        for split, style in (("train", "-"), ("val", "o-")):
            col = f"{split}_{metric}"
            sel = curves[["step", col]].dropna()
            if len(sel):
                ax.plot(sel["step"], sel[col], style, label=split, markersize=3)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_iou.set_ylim(0, 1)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return Path(path)


def write_curves(log_dir: str | os.PathLike, out_dir: str | os.PathLike, title: str = "") -> tuple[Path, Path]:
    """learning_curve.csv and learning_curve.png in out_dir, from Lightning's CSV logs in log_dir."""
    curves = read_lightning_metrics(metrics_files(log_dir))
    out_dir = Path(out_dir)
    csv = write_table(curves, out_dir / "learning_curve.csv")
    png = plot_curves(curves, out_dir / "learning_curve.png", title)
    return csv, png


def mean_curves(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Average several runs' curves step by step (the cross-validation learning curve)."""
    stacked = pd.concat(tables, ignore_index=True)
    return stacked.groupby("step", as_index=False).mean(numeric_only=True)
