"""Automatic vs manual features: relative and absolute error per frame, per case (Shimotsu Table 3).

Rows of the two tables are matched on (case, video, frame), where frame is the frame index when
>= 0, else the time in ms, else the single image of the case. `video` is part of the key only when
both tables name videos (manual stills often carry none). Rows of the inclusions label set are left out.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from oocyteseg.classes import INCLUSIONS, OOCYTE_ANATOMY
from oocyteseg.errors import OocytesegError

FEATURES = ("f1", "f2", "f3", "f4")
UNITS = {"f1": "-", "f2": "-", "f3": "px", "f4": "px"}
_NOT_ICSI = (INCLUSIONS.name, OOCYTE_ANATOMY.name)  # label sets without f1-f4


def relative_error(auto, manual) -> tuple[np.ndarray, int]:
    """|A - M| / |M| * 100 element-wise; NaN where M == 0 or either is NaN. Returns (errors, n_excluded)."""
    a = np.atleast_1d(np.asarray(auto, dtype=float))
    m = np.atleast_1d(np.asarray(manual, dtype=float))
    ok = np.isfinite(a) & np.isfinite(m) & (m != 0)
    out = np.full(np.broadcast(a, m).shape, np.nan)
    out[ok] = np.abs(a[ok] - m[ok]) / np.abs(m[ok]) * 100.0
    return out, int((~ok).sum())


def absolute_error(auto, manual) -> np.ndarray:
    """|A - M| element-wise, in the feature's own unit; NaN where either is NaN."""
    a = np.atleast_1d(np.asarray(auto, dtype=float))
    m = np.atleast_1d(np.asarray(manual, dtype=float))
    return np.abs(a - m)


def match_frames(auto_df: pd.DataFrame, manual_df: pd.DataFrame) -> pd.DataFrame:
    """Inner join of the two feature tables on (case, video, frame); columns suffixed _auto / _manual.

    The numbers of rows left unmatched on each side are in `.attrs["unmatched_auto"/"unmatched_manual"]`.
    """
    use_video = _has_videos(auto_df) and _has_videos(manual_df)
    keys = ["case", "video", "frame"] if use_video else ["case", "frame"]
    a, m = _keyed(auto_df, "auto", keys), _keyed(manual_df, "manual", keys)
    merged = a.merge(m, on=keys, how="inner", suffixes=("_auto", "_manual"))
    merged.attrs["unmatched_auto"] = len(a) - len(merged)
    merged.attrs["unmatched_manual"] = len(m) - len(merged)
    return merged


def compare(auto_df: pd.DataFrame, manual_df: pd.DataFrame,
            features: tuple[str, ...] = FEATURES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-frame errors and the per-case table of relative errors in the form of Shimotsu Table 3.

    Returns (per_frame, per_case). per_frame has case, video, frame_index, time_s and, for every
    feature f, columns f_auto, f_manual, f_abs, f_rel (%). per_case is `case_table(per_frame, "rel")`;
    `case_table(per_frame, "abs")` gives the absolute errors.
    """
    merged = match_frames(auto_df, manual_df)
    per_frame = pd.DataFrame({"case": merged["case"],
                              "video": merged.get("video", merged.get("video_manual", "")),
                              "frame_index": merged["frame_index_manual"], "time_s": merged["time_s_manual"]})
    excluded = {}
    for f in features:
        a, m = merged[f"{f}_auto"].to_numpy(float), merged[f"{f}_manual"].to_numpy(float)
        per_frame[f"{f}_auto"], per_frame[f"{f}_manual"] = a, m
        per_frame[f"{f}_abs"] = absolute_error(a, m)
        per_frame[f"{f}_rel"], excluded[f] = relative_error(a, m)
    if {"tip_x_auto", "tip_x_manual", "tip_y_auto", "tip_y_manual"} <= set(merged.columns):
        per_frame["tip_error_px"] = np.hypot(merged["tip_x_auto"].to_numpy(float) - merged["tip_x_manual"].to_numpy(float),
                                             merged["tip_y_auto"].to_numpy(float) - merged["tip_y_manual"].to_numpy(float))
    per_frame = per_frame.reset_index(drop=True)
    per_frame.attrs.update(unmatched_auto=merged.attrs["unmatched_auto"],
                           unmatched_manual=merged.attrs["unmatched_manual"], excluded=excluded)
    return per_frame, case_table(per_frame, "rel", features)


def tip_error_summary(per_frame: pd.DataFrame) -> dict[str, float]:
    """Needle-tip position error (px, automatic vs manual tip): frames with both tips, median, mean, 90th
    percentile, and the frames where only one of the two masks gives a tip."""
    if "tip_error_px" not in per_frame:
        return {"n": 0, "median": math.nan, "mean": math.nan, "p90": math.nan, "one_sided": 0}
    e = per_frame["tip_error_px"].to_numpy(float)
    ok = np.isfinite(e)
    a_ok = np.isfinite(per_frame.get("f3_auto", pd.Series(np.nan, index=per_frame.index)).to_numpy(float))
    m_ok = np.isfinite(per_frame.get("f3_manual", pd.Series(np.nan, index=per_frame.index)).to_numpy(float))
    return {"n": int(ok.sum()), "median": float(np.median(e[ok])) if ok.any() else math.nan,
            "mean": float(e[ok].mean()) if ok.any() else math.nan,
            "p90": float(np.percentile(e[ok], 90)) if ok.any() else math.nan, "one_sided": int((a_ok != m_ok).sum())}


def case_table(per_frame: pd.DataFrame, kind: str = "rel", features: tuple[str, ...] = FEATURES) -> pd.DataFrame:
    """Rows Case..., then AVG; columns (feature label, AVG|SD). SD is the sample SD (ddof=1) over frames.

    AVG row = mean of the per-case values (as in Shimotsu Table 3). `.attrs["n"]` holds the number of
    frames with a finite error per case and feature.
    """
    if kind not in ("rel", "abs"):
        raise ValueError("kind must be 'rel' or 'abs'")
    cases = sorted(per_frame["case"].astype(str).unique(), key=_natural)
    cols = pd.MultiIndex.from_tuples([(_label(f, kind), s) for f in features for s in ("AVG", "SD")])
    table = pd.DataFrame(index=[_row_label(c) for c in cases] + ["AVG"], columns=cols, dtype=float)
    counts = {}
    for case in cases:
        sub = per_frame[per_frame["case"].astype(str) == case]
        for f in features:
            v = sub[f"{f}_{kind}"].to_numpy(float)
            v = v[np.isfinite(v)]
            table.loc[_row_label(case), (_label(f, kind), "AVG")] = v.mean() if len(v) else math.nan
            table.loc[_row_label(case), (_label(f, kind), "SD")] = v.std(ddof=1) if len(v) > 1 else math.nan
            counts[(case, f)] = len(v)
    table = with_average_row(table.iloc[:-1])
    table.attrs["n"] = counts
    return table


def with_average_row(per_case: pd.DataFrame) -> pd.DataFrame:
    """Append the AVG row: the mean over cases of every column (cases without a value are skipped)."""
    out = per_case.copy()
    out.loc["AVG"] = per_case.mean(axis=0, skipna=True) if len(per_case) else math.nan
    return out


def table_markdown(table: pd.DataFrame, decimals: int = 2) -> str:
    """The per-case table laid out like Shimotsu Table 3: a feature header row, then an AVG/SD row."""
    feats = list(dict.fromkeys(c[0] for c in table.columns))
    header = [""] + [cell for f in feats for cell in (f, "")]
    lines = ["| " + " | ".join(header) + " |",
             "|---|" + "---|" * (2 * len(feats)),
             "| | " + " | ".join("AVG | SD" for _ in feats) + " |"]
    for idx, row in table.iterrows():
        cells = ["" if not np.isfinite(v) else f"{v:.{decimals}f}" for v in row.to_numpy(float)]
        lines.append(f"| {idx} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("AVG: average, SD: standard deviation (sample, over frames with a defined error).")
    return "\n".join(lines) + "\n"


def _label(f: str, kind: str) -> str:
    return f"{f} [%]" if kind == "rel" else f"{f} [{UNITS.get(f, '-')}]"


def _row_label(case: str) -> str:
    return f"Case{case}" if case.isdigit() else case


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _has_videos(df: pd.DataFrame) -> bool:
    return "video" in df.columns and bool((df["video"].fillna("").astype(str) != "").any())


def _keyed(df: pd.DataFrame, side: str, keys: list[str]) -> pd.DataFrame:
    for col in ("case", "f1", "f2", "f3", "f4"):
        if col not in df.columns:
            raise OocytesegError(f"{side} features table lacks column {col!r}",
                                 fix="pass tables written by `oocyteseg features` / features_table()")
    # rows of the other label sets (inclusions, oocyte-anatomy) share cases and frames but have no f1-f4
    out = df[~df["labelset"].isin(_NOT_ICSI)].copy() if "labelset" in df.columns else df.copy()
    out["case"] = out["case"].astype(str)
    out["video"] = out["video"].fillna("").astype(str) if "video" in out.columns else ""
    fi = out["frame_index"].fillna(-1).astype(int) if "frame_index" in out.columns else pd.Series(-1, index=out.index)
    ts = out["time_s"].astype(float) if "time_s" in out.columns else pd.Series(math.nan, index=out.index)
    out["frame_index"], out["time_s"] = fi, ts
    out["frame"] = [f"f{i}" if i >= 0 else (f"t{round(t * 1000)}" if math.isfinite(t) else "")
                    for i, t in zip(fi, ts)]
    dup = out.duplicated(keys, keep=False)
    if dup.any():
        first = out[dup].iloc[0]
        raise OocytesegError(f"{side} features table has {int(dup.sum())} rows sharing case/video/frame, e.g. "
                             f"case {first['case']!r} frame {first['frame']!r}",
                             fix="give each row a frame_index or time_s, or drop the duplicates")
    return out
