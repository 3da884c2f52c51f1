"""Report figures as PNG bytes (matplotlib, Agg): feature curves, tip trajectory, learning curves, injection timeline."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from oocyteseg.morphometry.measure import headline_columns

FEATURE_LABELS = {"f1": "f1 sERC circularity", "f2": "f2 sERC / oocyte area", "f3": "f3 Cox - Tnx [px]",
                  "f4": "f4 Coy - Tny [px]"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # no Software/URL metadata in the file: the report must not reference any address
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def feature_curves(table: pd.DataFrame, title: str = "", columns: list[str] | None = None) -> bytes:
    """Features against time (default: f1..f4, or the label set's areas), one panel each; QC-flagged frames
    marked with red dots."""
    plt = _plt()
    columns = columns or headline_columns(table.columns) or ["f1", "f2", "f3", "f4"]
    fig, axes = plt.subplots(len(columns), 1, figsize=(8, 1.6 * len(columns) + 0.6), sharex=True, squeeze=False)
    axes = axes[:, 0]
    t = table["time_s"].to_numpy(float)
    flagged = table["qc_flagged"].to_numpy(bool) if "qc_flagged" in table else np.zeros(len(t), bool)
    for ax, col in zip(axes, columns):
        y = table[col].to_numpy(float) if col in table else np.full(len(t), np.nan)
        ax.plot(t, y, "-", lw=1, color="tab:blue")
        if flagged.any():
            ax.plot(t[flagged], y[flagged], ".", color="tab:red", ms=4, label="QC flag")
        ax.set_ylabel(FEATURE_LABELS.get(col, col.replace("_", " ")), fontsize=8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time [s]")
    if flagged.any():
        axes[0].legend(fontsize=7, loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _png(fig)


def tip_trajectory(table: pd.DataFrame, width: int | None = None, height: int | None = None,
                   title: str = "") -> bytes:
    """Needle tip (raw and smoothed) and oocyte centre in image coordinates, coloured by time."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    t = table["time_s"].to_numpy(float)
    if "tip_x" in table:
        sc = ax.scatter(table["tip_x"], table["tip_y"], c=t, s=6, cmap="viridis", label="tip")
        fig.colorbar(sc, ax=ax, label="time [s]")
    if "tip_x_smooth" in table:
        ax.plot(table["tip_x_smooth"], table["tip_y_smooth"], "-", color="k", lw=0.8, label="tip (smoothed)")
    if "oocyte_cx" in table:
        ax.plot(table["oocyte_cx"], table["oocyte_cy"], "+", color="tab:red", ms=5, label="oocyte centre")
    if width and height:
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
    else:
        ax.invert_yaxis()
    ax.set_aspect("equal")
    ax.set_xlabel("x [px]")
    ax.set_ylabel("y [px]")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _png(fig)


def learning_curves(curves: pd.DataFrame, title: str = "") -> bytes:
    """Loss and mIoU against steps from a learning_curve.csv (columns step, train_/val_ loss / miou)."""
    plt = _plt()
    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(9, 3.2))
    x = curves["step"] if "step" in curves else pd.Series(np.arange(len(curves)))
    for ax, metric in ((ax_loss, "loss"), (ax_iou, "miou")):
        for split, style in (("train", "-"), ("val", "o-")):
            col = f"{split}_{metric}"
            if col in curves:
                sel = pd.DataFrame({"x": x, "y": curves[col]}).dropna()
                if len(sel):
                    ax.plot(sel["x"], sel["y"], style, ms=3, label=split)
        ax.set_xlabel("step")
        ax.set_ylabel("loss" if metric == "loss" else "mean IoU")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _png(fig)


def injection_timeline(table: pd.DataFrame, events: pd.DataFrame, title: str = "") -> bytes:
    """Funnel depth and needle penetration [px] against time (an injection.csv table), with a dashed
    vertical line and the name of each event (an events.csv table: name, time_s)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    t = table["time_s"].to_numpy(float) if "time_s" in table else np.arange(len(table), dtype=float)
    for col, label, color in (("funnel_depth_px", "funnel depth [px]", "tab:blue"),
                              ("penetration_px", "penetration past the oolemma [px]", "tab:orange")):
        if col in table:
            ax.plot(t, table[col].to_numpy(float), "-", lw=1.2, color=color, label=label)
    ax.axhline(0, color="0.6", lw=0.6)
    for _, ev in events.iterrows():
        x = float(ev["time_s"])
        if np.isfinite(x):
            ax.axvline(x, color="tab:red" if ev["name"] == "breakage" else "0.35", ls="--", lw=0.8)
            ax.text(x, 1.01, ev["name"], rotation=90, va="bottom", ha="center", fontsize=7,
                    transform=ax.get_xaxis_transform())  # above the plot: names never hide the curves
    ax.set_xlabel("time [s]")
    ax.set_ylabel("px along the needle axis")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _png(fig)
