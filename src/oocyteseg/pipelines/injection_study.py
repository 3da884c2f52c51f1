"""`oocyteseg experiment injection` (issue #17): read the injection on a phantom with known responses and
compare it with the truth the renderer wrote.

Steps: render a phantom data set with every breakage mode (`PhantomConfig(responses=MODES)`, each mode
in turn, so 8 cases hold each mode twice); read each case's injection (a) from the true masks of every
frame (tests the measurement alone: `InjectionTracker` + `detect_events`) and, with a model, (b) from
its predictions through `analyze`; compare with `<case>_injection.json/.csv` (`compare_case`) and
tabulate per case with Average and SD rows (`summarise`). Outputs in OUT: injection_per_case.csv/.md,
injection_study.log (the command, settings and each step), phantom/ and analysis/ (with a model).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import get_label_set
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.tables import table_to_markdown
from oocyteseg.injection_modes import MODES
from oocyteseg.io.atomic import check_writable, write_table, write_text
from oocyteseg.morphometry.injection import InjectionTracker
from oocyteseg.morphometry.injection_eval import compare_case, summarise
from oocyteseg.morphometry.injection_events import detect_events
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset
from oocyteseg.progress import ProgressFn

TABLE = "injection_per_case"
INJECTION_LABELS = "icsi-injection"


@dataclass
class InjectionStudySettings:
    """What the study renders and reads. `model`: a checkpoint/ONNX file whose predictions are also read."""

    cases: int = 8
    seed: int = 0
    seconds: float | None = None  # None: the phantom's default with responses (8 s)
    fps: float = 24.0
    height: int = 480
    width: int = 640
    model: Path | None = None
    threads: int | None = None


@dataclass
class InjectionStudyResult:
    out_dir: Path
    table: pd.DataFrame  # per case and source (`case`, `source`) with Average, SD and Target met rows
    csv: Path
    markdown: Path
    log: Path


def _log(lines: list[str], text: str) -> None:
    lines.append(f"{dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}  {text}")


def read_truth(case_dir: Path) -> tuple[dict, pd.DataFrame]:
    """(<case>_injection.json, <case>_injection.csv) of a phantom case folder."""
    case = case_dir.name
    doc, frames = case_dir / f"{case}_injection.json", case_dir / f"{case}_injection.csv"
    if not doc.is_file() or not frames.is_file():
        raise OocytesegError("phantom case has no injection ground truth", case_dir,
                             "render it with responses (oocyteseg phantom --responses ...)")
    return json.loads(doc.read_text()), pd.read_csv(frames)


def read_masks(case_dir: Path, fps: float) -> pd.DataFrame:
    """The injection table of a case read from its true masks (<case>_masks.npz), every frame in order."""
    with np.load(case_dir / f"{case_dir.name}_masks.npz") as z:
        masks = z["masks"]
    tracker = InjectionTracker(get_label_set(INJECTION_LABELS), None, fps)
    for i, mask in enumerate(masks):
        tracker.update(i, i / fps, mask)
    return tracker.table()


def _analyse(data: Path, out: Path, settings: InjectionStudySettings) -> Path:
    """Model predictions of every phantom video through `analyze`; returns the analysis folder."""
    from oocyteseg.inference.video_analysis import AnalyzeConfig
    from oocyteseg.pipelines.analysis import run_analysis

    target = out / "analysis"
    outcome = run_analysis([data / "icsi"], settings.model, target, AnalyzeConfig(), threads=settings.threads,
                           overwrite=True, overlay=False)
    if outcome.failed:
        raise OocytesegError(f"analysis of the phantom failed: {outcome.failed[0][1]}")
    return target


def run_injection_study(out: str | os.PathLike, settings: InjectionStudySettings | None = None, *,
                        overwrite: bool = False, command: str | None = None,
                        progress: ProgressFn | None = None) -> InjectionStudyResult:
    """Render, read and compare (see the module doc); returns the table and where it was written."""
    s = settings or InjectionStudySettings()
    if s.cases < 1:
        raise OocytesegError(f"--cases must be >= 1, got {s.cases}", fix="e.g. --cases 8 (each mode twice)")
    out = Path(out)
    csv = check_writable(out / f"{TABLE}.csv", overwrite)
    log: list[str] = [f"command: {command or '(python)'}",
                      f"settings: {json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(s).items()})}"]
    data = out / "phantom"
    _log(log, f"render {s.cases} phantom cases with responses {', '.join(MODES)} into {data}")
    make_phantom_dataset(data, PhantomConfig(cases=s.cases, seed=s.seed, seconds=s.seconds, fps=s.fps,
                                             height=s.height, width=s.width, video_formats=("mp4",),
                                             inclusion_images=0, anatomy=False, responses=MODES),
                         overwrite=True, progress=progress)
    case_dirs = sorted(p for p in (data / "icsi").iterdir() if p.is_dir())
    analysis = _analyse(data, out, s) if s.model else None
    rows = []
    for k, case_dir in enumerate(case_dirs):
        truth, truth_frames = read_truth(case_dir)
        fps = float(truth.get("fps") or s.fps)
        sources = [("true masks", read_masks(case_dir, fps))]
        if analysis is not None:
            sources.append(("model", pd.read_csv(analysis / case_dir.name / case_dir.name / "injection.csv")))
        for source, table in sources:
            reading = detect_events(table, fps)
            rows.append((source, {"case": case_dir.name, **compare_case(truth, truth_frames, reading, table)}))
            _log(log, f"{case_dir.name} ({source}): mode {truth.get('mode')} -> {reading.summary.get('mode')}")
        if progress:
            progress("cases read", k + 1, len(case_dirs))
    table = pd.concat([summarise([r for src_, r in rows if src_ == src]).assign(source=src)
                       for src in dict.fromkeys(src for src, _ in rows)], ignore_index=True)
    write_table(table, csv, overwrite=True)
    markdown = write_text(out / f"{TABLE}.md", _markdown(table, command), overwrite=True)
    _log(log, f"wrote {csv} and {markdown}")
    log_path = write_text(out / "injection_study.log", "\n".join(log) + "\n", overwrite=True)
    return InjectionStudyResult(out, table, csv, markdown, log_path)


def _markdown(table: pd.DataFrame, command: str | None) -> str:
    """injection_per_case.md: the command, then the table (per case, Average and SD) of each source."""
    parts = ["# Injection read on the phantom", "",
             f"Command: `{command or 'oocyteseg experiment injection'}`", "",
             "On the phantom these numbers test the software, not clinical validity.", ""]
    for src, part in table.groupby("source", sort=False):
        parts.append(table_to_markdown(part.drop(columns="source"), title=f"read from the {src}"))
    return "\n".join(parts)
