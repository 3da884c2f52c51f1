"""Per-video summary of an analysis: counts, speed, feature statistics and QC, as JSON and Markdown;
and the run's table of them (OUT/summary.csv, one row per video)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from oocyteseg.io.atomic import write_json, write_text

RUN_SUMMARY_FILE = "summary.csv"
RUN_SUMMARY_COLUMNS = ["case", "video", "folder", "frames_analysed", "width", "height", "video_fps", "analysed_fps",
                       "duration_s", "processing_s", "processing_frames_per_s", "model", "backend",
                       "frames_flagged", "frames_with_jump"]
STAT_COLUMNS = ("f1", "f2", "f3", "f4", "oocyte_area", "serc_area", "tip_x", "tip_y",
                "inclusion_count", "inclusion_area_total")


def _stats(values: np.ndarray) -> dict[str, float]:
    v = values[np.isfinite(values)]
    if not len(v):
        return {"n": 0, "mean": math.nan, "sd": math.nan, "median": math.nan, "min": math.nan, "max": math.nan}
    return {"n": int(len(v)), "mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else math.nan,
            "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max())}


def summarise(table: pd.DataFrame, *, name: str, video: Path, seconds: float, fps_video: float,
              fps_analysed: float, model: dict, out_dir: Path,
              frame_size: tuple[int, ...] = ()) -> dict[str, Any]:
    """The summary dict of one analysed video (what summary.json holds)."""
    reasons = Counter(r for cell in table.get("reason", pd.Series(dtype=str)) for r in str(cell).split(";") if r)
    jumps = Counter(q for cell in table.get("qc", pd.Series(dtype=str)) for q in str(cell).split(";") if q)
    n = len(table)
    duration = float(table["time_s"].max() - table["time_s"].min()) if n else 0.0
    return clean_json({
        "case": name,
        "video": str(video),
        "frames_analysed": n,
        "height": frame_size[0] if frame_size else None,
        "width": frame_size[1] if frame_size else None,
        "video_fps": fps_video,
        "analysed_fps": fps_analysed,
        "duration_s": duration,
        "processing_s": round(seconds, 3),
        "processing_frames_per_s": round(n / seconds, 2) if n and seconds > 0 else None,
        "model": model,
        "features": {c: _stats(table[c].to_numpy(float)) for c in table.columns
                     if c in STAT_COLUMNS or (c.endswith("_area") and c not in ("oocyte_area", "serc_area"))},
        "qc": {"frames_flagged": int(table["qc_flagged"].sum()) if "qc_flagged" in table else 0,
               "frames_with_jump": int(table["qc_jump"].sum()) if "qc_jump" in table else 0,
               "reasons": dict(sorted(reasons.items())), "jumps": dict(sorted(jumps.items()))},
        "outputs": sorted(p.name for p in out_dir.iterdir() if not p.name.startswith(".")),
    })


def clean_json(obj: Any) -> Any:
    """A strict-JSON copy: NaN/inf become None, NumPy scalars and arrays Python values, other objects
    (paths...) strings; dict keys become strings."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [clean_json(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return str(obj)


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def summary_markdown(summary: dict[str, Any]) -> str:
    """summary.md: the same content as summary.json, for people."""
    lines = [f"# {summary['case']}", "",
             f"- video: `{summary['video']}`",
             f"- frames analysed: {summary['frames_analysed']} ({_fmt(summary['analysed_fps'])} per second of video; "
             f"video {_fmt(summary['video_fps'])} fps, {_fmt(summary['duration_s'])} s)",
             f"- processing: {_fmt(summary['processing_s'])} s "
             f"({_fmt(summary['processing_frames_per_s'])} frames/s)",
             f"- model: {summary['model'].get('name', '?')} ({summary['model'].get('backend', '?')}, "
             f"input {summary['model'].get('size', '?')})",
             f"- QC: {summary['qc']['frames_flagged']} frames flagged, "
             f"{summary['qc']['frames_with_jump']} with a temporal jump", ""]
    lines += ["| feature | n | mean | SD | median | min | max |", "|---|---|---|---|---|---|---|"]
    for col, s in summary["features"].items():
        lines.append(f"| {col} | {s['n']} | " + " | ".join(_fmt(s[k]) for k in ("mean", "sd", "median", "min", "max"))
                     + " |")
    injection = summary.get("injection") or {}
    if injection:
        lines += ["", "| injection | value |", "|---|---|"]
        lines += [f"| {k} | {_fmt(v)} |" for k, v in injection.items() if not isinstance(v, dict | list)]
    if summary["qc"]["reasons"] or summary["qc"]["jumps"]:
        lines += ["", "| QC reason / jump | frames |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in {**summary["qc"]["reasons"], **summary["qc"]["jumps"]}.items()]
    return "\n".join(lines) + "\n"


def write_summary(summary: dict[str, Any], out_dir: Path) -> None:
    """summary.json and summary.md in out_dir."""
    write_json(out_dir / "summary.json", summary)
    write_text(out_dir / "summary.md", summary_markdown(summary))


def run_summary_table(summaries: Sequence[tuple[str, dict[str, Any]]]) -> pd.DataFrame:
    """One row per video from (output folder, summary dict): case, video, folder, counts, speed, QC and
    `<feature>_mean` / `<feature>_sd` of every feature and `inj_<key>` of the injection summary (columns
    RUN_SUMMARY_COLUMNS first)."""
    rows = []
    for folder, s in summaries:
        qc, model = s.get("qc") or {}, s.get("model") or {}
        row = {**{c: s.get(c) for c in RUN_SUMMARY_COLUMNS}, "folder": folder, "model": model.get("name"),
               "backend": model.get("backend"), "frames_flagged": qc.get("frames_flagged"),
               "frames_with_jump": qc.get("frames_with_jump")}
        for col, stats in (s.get("features") or {}).items():
            row[f"{col}_mean"], row[f"{col}_sd"] = stats.get("mean"), stats.get("sd")
        row.update({f"inj_{k}": v for k, v in (s.get("injection") or {}).items() if not isinstance(v, dict | list)})
        rows.append(row)
    df = pd.DataFrame(rows)
    return df.reindex(columns=RUN_SUMMARY_COLUMNS + [c for c in df.columns if c not in RUN_SUMMARY_COLUMNS])
