"""Evaluation of the injection reading against the phantom's ground truth: per case, then the table.

Targets (issue #17, on the phantom): breakage frame within ±2 frames in >= 90 % of cases, funnel depth
at breakage within 5 % or 3 px, breakage mode right in >= 90 % of cases, polar-body angle within 15°.
The funnel and angle targets are also counted per case and met when >= 90 % of the cases meet them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from oocyteseg.morphometry.injection_events import InjectionReading

BREAKAGE_TOL_FRAMES = 2
FUNNEL_TOL_FRACTION = 0.05
FUNNEL_TOL_PX = 3.0
ANGLE_TOL_DEG = 15.0
TARGET_FRACTION = 0.9
EVENTS = ("contact", "max_funnel", "injection", "withdrawal")


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _frame(reading: InjectionReading, name: str) -> float:
    e = reading.event(name)
    return math.nan if e is None else float(e.frame)


def compare_case(truth_json: dict, truth_frames: pd.DataFrame, reading: InjectionReading,
                 table: pd.DataFrame) -> dict:
    """Errors of one case's reading (read - true): event frames, funnel depth at breakage (px and %),
    mode, polar-body angle; plus the funnel depth's per-frame mean absolute error over the video
    (`funnel_mae_px`, from `truth_frames` and the tracker `table`)."""
    events = truth_json.get("events", {})
    row: dict = {"breakage_frame_error": _frame(reading, "breakage") - _num(events.get("breakage"))}
    for name in EVENTS:
        row[f"{name}_frame_error"] = _frame(reading, name) - _num(events.get(name))
    true_depth = _num(truth_json.get("funnel_depth_at_breakage_px"))
    read_depth = _num(reading.summary.get("funnel_depth_at_breakage_px"))
    row["funnel_depth_error_px"] = read_depth - true_depth
    row["funnel_depth_error_pct"] = 100 * (read_depth - true_depth) / true_depth if true_depth else math.nan
    row["mode_true"] = truth_json.get("mode", "")
    row["mode_read"] = reading.summary.get("mode", "unknown")
    row["mode_right"] = row["mode_true"] == row["mode_read"]
    row["attempts_error"] = _num(reading.summary.get("attempts")) - _num(truth_json.get("attempts"))
    a_true = _num(truth_json.get("polar_body_angle_deg"))
    a_read = _num(reading.summary.get("polar_body_angle_deg"))
    row["polar_body_angle_error_deg"] = (a_read - a_true + 180) % 360 - 180 if math.isfinite(a_true) else math.nan
    merged = truth_frames[["frame", "funnel_depth_px"]].merge(table[["frame", "funnel_depth_px"]], on="frame",
                                                              suffixes=("_true", "_read"))
    row["funnel_mae_px"] = float(np.nanmean(np.abs(merged["funnel_depth_px_read"] - merged["funnel_depth_px_true"]))
                                 ) if len(merged) else math.nan
    return row


def _checks(df: pd.DataFrame) -> pd.DataFrame:
    """Per-case pass/fail of each target (NaN where the truth has no such quantity)."""
    out = pd.DataFrame(index=df.index)
    err = df["breakage_frame_error"]
    out["breakage_ok"] = err.abs() <= BREAKAGE_TOL_FRAMES  # a breakage not found counts as a miss
    fe, fp = df["funnel_depth_error_px"], df["funnel_depth_error_pct"]
    out["funnel_ok"] = ((fe.abs() <= FUNNEL_TOL_PX) | (fp.abs() <= 100 * FUNNEL_TOL_FRACTION)).where(fe.notna(), np.nan)
    out["mode_ok"] = df["mode_right"].astype(float)
    pa = df["polar_body_angle_error_deg"]
    out["polar_body_ok"] = (pa.abs() <= ANGLE_TOL_DEG).where(pa.notna(), np.nan)
    return out.astype(float)


def summarise(rows: list[dict]) -> pd.DataFrame:
    """Per-case rows (each `compare_case` dict, with a `case` key) plus "Average", "SD" and "Target met"
    rows. Numeric columns get mean and SD; the `*_ok` columns are the fraction of cases meeting each
    target, and the "Target met" row says whether that fraction reaches TARGET_FRACTION."""
    df = pd.DataFrame(rows)
    if "case" not in df:
        df.insert(0, "case", [f"case{i}" for i in range(len(df))])
    if not len(df):
        return df
    df = pd.concat([df, _checks(df)], axis=1)
    num = [c for c in df.columns if c not in ("case", "mode_true", "mode_read")]
    values = df[num].apply(pd.to_numeric, errors="coerce")
    avg = {"case": "Average", **values.mean().to_dict()}
    sd = {"case": "SD", **values.std(ddof=1).to_dict()}
    met = {"case": "Target met"}
    for c in ("breakage_ok", "funnel_ok", "mode_ok", "polar_body_ok"):
        frac = values[c].mean()
        met[c] = bool(frac >= TARGET_FRACTION) if math.isfinite(frac) else math.nan
    return pd.concat([df, pd.DataFrame([avg, sd, met])], ignore_index=True)
