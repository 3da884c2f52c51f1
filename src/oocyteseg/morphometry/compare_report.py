"""Write an auto-vs-manual comparison: tables (CSV + Markdown) and Bland-Altman plots (PNG)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from oocyteseg.io.atomic import atomic_path, check_writable, write_table, write_text  # noqa: E402
from oocyteseg.morphometry.compare import FEATURES, UNITS, case_table, table_markdown  # noqa: E402

OUTPUTS = ["per_frame.csv", "table3_relative.csv", "table_absolute.csv", "comparison.md"] + \
    [f"bland_altman_{f}.png" for f in FEATURES]


def bland_altman(per_frame: pd.DataFrame, feature: str, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Bland-Altman plot of one feature: difference A - M against mean (A + M) / 2, bias and 95% limits."""
    a = per_frame[f"{feature}_auto"].to_numpy(float)
    m = per_frame[f"{feature}_manual"].to_numpy(float)
    ok = np.isfinite(a) & np.isfinite(m)
    mean, diff = (a[ok] + m[ok]) / 2, a[ok] - m[ok]
    fig, ax = plt.subplots(figsize=(4.8, 3.6), dpi=120)
    ax.scatter(mean, diff, s=10, alpha=0.7)
    if len(diff):
        bias = diff.mean()
        sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
        ax.axhline(bias, color="k", lw=1, label=f"bias {bias:.3g}")
        for lim in (bias - 1.96 * sd, bias + 1.96 * sd):
            ax.axhline(lim, color="k", lw=1, ls="--")
        ax.plot([], [], "k--", lw=1, label=f"±1.96 SD ({1.96 * sd:.3g})")
        ax.legend(fontsize=7, loc="best")
    unit = UNITS.get(feature, "-")
    ax.set_xlabel(f"mean of auto and manual {feature} [{unit}]")
    ax.set_ylabel(f"auto - manual {feature} [{unit}]")
    ax.set_title(f"Bland-Altman {feature} (n = {int(ok.sum())})", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path, overwrite) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def write_comparison(per_frame: pd.DataFrame, per_case: pd.DataFrame, out_dir: str | os.PathLike,
                     overwrite: bool = False, title: str = "Automatic vs manual features") -> list[Path]:
    """Write per_frame.csv, table3_relative.csv, table_absolute.csv, comparison.md and Bland-Altman PNGs."""
    out_dir = Path(out_dir)
    for name in OUTPUTS:
        check_writable(out_dir / name, overwrite)
    absolute = case_table(per_frame, "abs")
    paths = [write_table(per_frame, out_dir / "per_frame.csv"),
             write_table(_flat(per_case), out_dir / "table3_relative.csv"),
             write_table(_flat(absolute), out_dir / "table_absolute.csv")]
    excluded = per_frame.attrs.get("excluded", {})
    md = [f"# {title}", "",
          f"Matched frames: {len(per_frame)}; unmatched automatic rows: {per_frame.attrs.get('unmatched_auto', 0)}; "
          f"unmatched manual rows: {per_frame.attrs.get('unmatched_manual', 0)}.", "",
          "## Relative error per case (form of Shimotsu et al., Table 3)", "",
          "Relative error = |A - M| / |M| x 100. Frames excluded (M = 0 or a value missing): "
          + ", ".join(f"{f}: {n}" for f, n in excluded.items()) + ".", "",
          table_markdown(per_case),
          "## Absolute error per case", "",
          "|A - M| in the feature's unit (f1, f2 dimensionless; f3, f4 pixels). Stays meaningful when M is near 0.",
          "", table_markdown(absolute, decimals=4), "## Bland-Altman plots", ""]
    for f in FEATURES:
        if f"{f}_auto" in per_frame.columns:
            paths.append(bland_altman(per_frame, f, out_dir / f"bland_altman_{f}.png"))
            md.append(f"![Bland-Altman {f}](bland_altman_{f}.png)")
    paths.append(write_text(out_dir / "comparison.md", "\n".join(md) + "\n"))
    return paths


def _flat(table: pd.DataFrame) -> pd.DataFrame:
    """MultiIndex columns ('f1 [%]', 'AVG') -> 'f1 [%] AVG', with the row label as a 'case' column."""
    flat = table.copy()
    flat.columns = [f"{a} {b}" for a, b in table.columns]
    return flat.reset_index(names="case")
