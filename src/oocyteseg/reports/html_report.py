"""`oocyteseg report`: one self-contained HTML file for an analysis run (and any training run in it).

Sections: videos; IoU against ground truth (Shimotsu Table 2 form) and relative feature errors
(Table 3 form) where true masks exist; feature statistics per video (AVG/SD, Table 3 layout);
per video the f1-f4 curves, the tip trajectory, overlay thumbnails of QC-flagged frames and the injection
(summary, timeline with events and key frames: `reports.injection_timeline`);
learning curves of training runs found in the folder; the exact commands and configs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import labels_from_extra
from oocyteseg.morphometry.measure import headline_columns
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable, write_text
from oocyteseg.io.video import iter_frames
from oocyteseg.inference.batch import STARTED_FILE, finished_folders
from oocyteseg.morphometry.compare import compare
from oocyteseg.reports import figures
from oocyteseg.reports.html import esc, jpeg_img, page, png_img, table_html
from oocyteseg.reports.injection_timeline import injection_section
from oocyteseg.reports.overlay_video import OVERLAY_FILE
from oocyteseg.reports.truth import find_truth, iou_table, score_case, truth_classes

FEATURES = ("f1", "f2", "f3", "f4")


@dataclass
class CaseData:
    """What the report reads of one analysed video (`name`: how the report shows it, unique in the run)."""

    name: str
    folder: Path
    table: pd.DataFrame
    summary: dict
    analysis: dict
    case: str = ""
    truth: Path | None = None
    confusion: np.ndarray | None = None
    truth_features: pd.DataFrame | None = None
    truth_frames: int = 0
    extra: dict = field(default_factory=dict)


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_cases(run_dir: Path) -> list[CaseData]:
    """Every finished video analysis in run_dir: OUT/<case>/<video>/ (or OUT/<name>/ of older runs).

    A video is shown by its case id, or by its folder `<case>/<video>` where the run holds several
    videos of that case.
    """
    cases = []
    for folder in sorted(finished_folders(run_dir), key=lambda p: _natural(p.relative_to(run_dir).as_posix())):
        parquet = folder / "features.parquet"
        table = pd.read_parquet(parquet) if parquet.is_file() else pd.read_csv(folder / "features.csv")
        summary, analysis = _read_json(folder / "summary.json"), _read_json(folder / STARTED_FILE)
        case = str(summary.get("case") or analysis.get("case") or folder.name)
        cases.append(CaseData(folder.relative_to(run_dir).as_posix(), folder, table, summary, analysis, case=case))
    per_case = Counter(c.case for c in cases)
    for c in cases:
        if per_case[c.case] == 1:
            c.name = c.case
    return cases


def _thumbnails(case: CaseData, limit: int) -> str:
    """Overlay frames of QC-flagged rows (temporal jumps first), read back from overlay.mp4."""
    table = case.table
    if "qc_flagged" not in table or not table["qc_flagged"].any():
        return '<p class="note">No QC-flagged frames.</p>'
    if limit < 1:
        return f'<p class="note">{int(table["qc_flagged"].sum())} flagged frames (thumbnails turned off).</p>'
    video = case.folder / OVERLAY_FILE
    if not video.is_file():
        return '<p class="note">No overlay video (analysed with --no-overlay): thumbnails unavailable.</p>'
    flagged = np.flatnonzero(table["qc_flagged"].to_numpy(bool))
    jumps = [int(i) for i in flagged if bool(table["qc_jump"].iat[i])]
    others = [int(i) for i in flagged if not bool(table["qc_jump"].iat[i])]
    pick = jumps[:limit]
    if len(pick) < limit and others:  # spread the rest over the video
        step = max(1, len(others) // (limit - len(pick)))
        pick += others[::step][:limit - len(pick)]
    wanted = set(pick)
    items = []
    for frame in iter_frames(video):
        if frame.index in wanted:
            row = table.iloc[frame.index]
            why = "; ".join(s for s in (str(row.get("qc", "") or ""), str(row.get("reason", "") or "")) if s)
            caption = f"frame {int(row['frame_index'])} · {float(row['time_s']):.2f} s · {why}"
            items.append(f"<figure>{jpeg_img(frame.image, caption)}<figcaption>{esc(caption)}</figcaption></figure>")
        if frame.index >= max(wanted):
            break
    more = len(flagged) - len(pick)
    note = f'<p class="note">{len(flagged)} flagged frames; {len(pick)} shown{f", {more} more in features.csv" if more > 0 else ""}.</p>'
    return note + f'<div class="thumbs">{"".join(items)}</div>'


def _feature_stats(cases: list[CaseData]) -> pd.DataFrame:
    features = headline_columns([col for c in cases for col in c.table.columns]) or list(FEATURES)
    cols = pd.MultiIndex.from_tuples([(f, s) for f in features for s in ("AVG", "SD")])
    rows = {}
    for c in cases:
        vals = []
        for f in features:
            v = c.table[f].to_numpy(float) if f in c.table else np.array([])
            v = v[np.isfinite(v)]
            vals += [v.mean() if len(v) else np.nan, v.std(ddof=1) if len(v) > 1 else np.nan]
        rows[c.name] = vals
    df = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    if len(df):
        df.loc["AVG"] = df.mean(axis=0, skipna=True)
    return df


def _overview(cases: list[CaseData]) -> pd.DataFrame:
    rows = []
    for c in cases:
        s, m = c.summary, c.summary.get("model", {})
        rows.append({"video": Path(s.get("video", "")).name, "frames": s.get("frames_analysed"),
                     "duration [s]": s.get("duration_s"), "frames/s (processing)": s.get("processing_frames_per_s"),
                     "QC-flagged frames": s.get("qc", {}).get("frames_flagged"),
                     "temporal jumps": s.get("qc", {}).get("frames_with_jump"),
                     "model": f"{m.get('name', '?')} ({m.get('backend', '?')})",
                     "ground truth": c.truth.name if c.truth else "none"})
    return pd.DataFrame(rows, index=[c.name for c in cases])


def _truth_sections(cases: list[CaseData]) -> str:
    scored = [c for c in cases if c.confusion is not None]
    if not scored:
        return ('<h2>Ground truth</h2><p class="note">No ground-truth masks found (pass --truth, or keep '
                "<code>&lt;video stem&gt;_masks.npz</code> next to each video).</p>")
    labels = labels_from_extra(scored[0].summary.get("model"))
    iou = iou_table({c.name: c.confusion for c in scored}, labels)
    out = ["<h2>Segmentation against ground truth: IoU (Table 2 form)</h2>",
           f'<p class="note">IoU = TP / (TP + FP + FN) per class from the confusion matrix summed over every '
           f"analysed frame of the video ({sum(c.truth_frames for c in scored)} frames in all); "
           f"Average = mean of the classes / of the videos.</p>", table_html(iou, 3)]
    auto = pd.concat([c.table for c in scored], ignore_index=True)
    manual = pd.concat([c.truth_features for c in scored if c.truth_features is not None and len(c.truth_features)],
                       ignore_index=True) if any(c.truth_features is not None and len(c.truth_features)
                                                 for c in scored) else pd.DataFrame()
    if len(manual) and "f1" in auto.columns and "f1" in manual.columns:
        _, per_case = compare(auto, manual)
        out += ["<h2>Features against ground truth: relative error [%] (Table 3 form)</h2>",
                f'<p class="note">Relative error |A - M| / M x 100 of features of the predicted (A) and true (M) '
                f"masks, on {len(manual)} frames sampled at 1 per second (as the seeds annotated).</p>",
                table_html(per_case, 2)]
    return "\n".join(out)


def _learning_curves(run_dir: Path) -> str:
    files = sorted(run_dir.rglob("learning_curve.csv"))
    if not files:
        return ""
    out = ["<h2>Learning curves</h2>"]
    for f in files:
        curves = pd.read_csv(f)
        rel = f.parent.relative_to(run_dir).as_posix() or "."
        out.append(f"<h3>{esc(rel)}</h3>" + png_img(figures.learning_curves(curves, rel), f"learning curve {rel}"))
    return "\n".join(out)


def _commands(run_dir: Path, cases: list[CaseData]) -> str:
    run = _read_json(run_dir / "run.json")
    out = ["<h2>Command and configuration</h2>"]
    if run:
        out.append(f"<pre>{esc(run.get('command') or '(not recorded)')}</pre>")
        shown = {k: run.get(k) for k in ("config", "model", "shard", "videos", "started")}
        out.append(f"<pre>{esc(json.dumps(shown, indent=2))}</pre>")
        earlier = [h.get("command") for h in run.get("history", []) if h.get("command")]
        if earlier:
            out.append("<p>Earlier invocations on this folder:</p><pre>" + esc("\n".join(earlier)) + "</pre>")
    commands = sorted({c.analysis.get("command") for c in cases if c.analysis.get("command")})
    if commands:
        out.append("<p>Commands that produced the videos shown:</p><pre>" + esc("\n".join(commands)) + "</pre>")
    for cfg in sorted(run_dir.rglob("config.yaml"))[:5]:  # training runs in the folder
        out.append(f"<p>{esc(cfg.relative_to(run_dir).as_posix())}</p><pre>{esc(cfg.read_text())}</pre>")
    return "\n".join(out)


def build_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *,
                 truth: str | os.PathLike | None = None, max_thumbnails: int = 8, overwrite: bool = False) -> Path:
    """Write the report of `run_dir` to `out` (default run_dir/report.html); returns its path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise OocytesegError("run folder not found", run_dir, "pass the --out folder of `oocyteseg analyze`")
    out = check_writable(Path(out) if out else run_dir / "report.html", overwrite)
    cases = load_cases(run_dir)
    curves = _learning_curves(run_dir)
    if not cases and not curves:
        raise OocytesegError("no finished video analysis (done.json) or learning_curve.csv in the folder", run_dir,
                             "run `oocyteseg analyze ... --out` into it first")
    truth_path = Path(truth) if truth else None
    mismatched: list[str] = []
    for c in cases:
        c.truth = find_truth(Path(c.summary.get("video", "")), c.case, truth_path)
        labels = labels_from_extra(c.summary.get("model"))
        recorded = truth_classes(c.truth) if c.truth is not None else None
        if recorded is not None and recorded != list(labels.classes):
            mismatched.append(f"{c.name}: ground truth {c.truth.name} has classes {recorded}, the model predicts "
                              f"{list(labels.classes)}")
            c.truth = None
        if c.truth is not None:
            video = str(c.table["video"].iat[0]) if "video" in c.table and len(c.table) else ""
            c.confusion, c.truth_features, c.truth_frames = score_case(c.folder / "masks", c.truth, labels, c.case,
                                                                       video=video)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>oocyteseg report: {esc(run_dir.name)}</h1>",
            f'<p class="meta">{len(cases)} analysed videos · generated {now} · folder {esc(run_dir.resolve())}</p>']
    if cases:
        shimotsu = any("f1" in c.table for c in cases)
        note = ('<p class="note">f1 sERC circularity, f2 sERC/oocyte area, f3 = Cox - Tnx, f4 = Coy - Tny '
                "(px), as in Shimotsu et al.</p>" if shimotsu else
                '<p class="note">Areas in px of the original frame (see docs/features.md).</p>')
        body += ["<h2>Videos</h2>", table_html(_overview(cases), 2), _truth_sections(cases),
                 *(f'<p class="note">Not scored: {esc(m)}.</p>' for m in mismatched),
                 "<h2>Features per video (AVG and SD over analysed frames)</h2>", note,
                 table_html(_feature_stats(cases), 3)]
        for c in cases:
            w, h = c.summary.get("width"), c.summary.get("height")
            body += [f"<h2>{esc(c.name)}</h2>",
                     f'<p class="meta">{esc(c.summary.get("video", ""))}</p><div class="figs">',
                     png_img(figures.feature_curves(c.table, f"{c.name}: features over time"), f"{c.name} features"),
                     png_img(figures.tip_trajectory(c.table, w, h, f"{c.name}: needle tip"), f"{c.name} tip")
                     if "tip_x" in c.table else "",
                     "</div><h3>QC-flagged frames</h3>", _thumbnails(c, max_thumbnails),
                     injection_section(c.name, c.folder, c.summary, c.table)]
    body += [curves, _commands(run_dir, cases)]
    write_text(out, page(f"oocyteseg report: {run_dir.name}", "\n".join(body)), overwrite=True)
    return out
