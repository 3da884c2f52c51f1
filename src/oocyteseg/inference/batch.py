"""Analyse many videos: find them, name their output folders, shard, resume, and carry on past bad files.

Each video gets OUT/<name>/ (name = file stem; `<stem>_<suffix>` where two inputs share a stem).
`analysis.json` is written first and `done.json` last: a folder with done.json is finished and
skipped on the next run; one without it was interrupted and is redone from scratch. A video that
cannot be read becomes a one-line error in the outcome, and the other videos still finish.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_json
from oocyteseg.inference.memory import limit_allocator_growth
from oocyteseg.inference.sinks import SinkFactory
from oocyteseg.inference.video_analysis import AnalyzeConfig, VideoResult, analyze_video, probe_video

VIDEO_SUFFIXES = (".mp4", ".wmv", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg")
STARTED_FILE = "analysis.json"
DONE_FILE = "done.json"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class VideoJob:
    """One input video and the name of its output folder (also its `case`)."""

    path: Path
    name: str


@dataclass
class BatchOutcome:
    """Results of `analyze_videos`: finished, skipped (already done) and failed videos."""

    out: Path
    done: list[VideoResult] = field(default_factory=list)
    skipped: list[VideoJob] = field(default_factory=list)
    failed: list[tuple[VideoJob, str]] = field(default_factory=list)


def find_videos(inputs: Sequence[str | Path], exclude: str | Path | None = None) -> list[Path]:
    """Video files named directly, plus those found (recursively, by suffix) in named folders; sorted.

    Files under `exclude` (the output folder: its overlay videos) are not searched.
    """
    found: set[Path] = set()
    skip = Path(exclude).resolve() if exclude is not None else None
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.update(p.resolve() for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()
                         and not (skip is not None and p.resolve().is_relative_to(skip)))
        elif path.is_file():
            found.add(path.resolve())
        else:
            raise OocytesegError("no such video or folder", path, "check the path")
    if not found:
        raise OocytesegError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) found", ", ".join(map(str, inputs)),
                             "pass video files or folders that contain videos")
    return sorted(found)


def name_jobs(videos: Sequence[Path]) -> list[VideoJob]:
    """Output names: the stem; `<stem>_<suffix>` for stems used twice; `_2`, `_3`... if still equal."""
    stems: dict[str, int] = {}
    for v in videos:
        stems[v.stem] = stems.get(v.stem, 0) + 1
    jobs, used = [], set()
    for v in videos:
        name = v.stem if stems[v.stem] == 1 else f"{v.stem}_{v.suffix.lstrip('.').lower()}"
        base, k = name, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        used.add(name)
        jobs.append(VideoJob(v, name))
    return jobs


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' (1 <= i <= n) -> (i, n)."""
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise OocytesegError(f"bad --shard {text!r}", fix="write it as i/n, e.g. --shard 1/4") from None
    if not 1 <= i <= n:
        raise OocytesegError(f"bad --shard {text!r}: need 1 <= i <= n", fix="e.g. --shard 1/4 ... --shard 4/4")
    return i, n


def select_shard(jobs: Sequence[VideoJob], index: int, count: int) -> list[VideoJob]:
    """Shard `index` of `count` (1-based) of the sorted job list: every count-th job from index-1."""
    return list(jobs[index - 1::count])


def job_state(folder: Path, video: Path) -> str:
    """'new', 'partial' (interrupted: redo) or 'done'; errors for a folder that is not ours."""
    if not folder.exists() or not any(folder.iterdir()):
        return "new"
    started = folder / STARTED_FILE
    if not started.is_file():
        raise OocytesegError("output folder exists and is not an oocyteseg analysis", folder,
                             "choose another --out or move the folder away")
    try:
        recorded = json.loads(started.read_text()).get("video")
    except (OSError, ValueError):
        return "partial"  # analysis.json itself half written
    if recorded and Path(recorded) != video:
        raise OocytesegError(f"output folder holds the analysis of another video ({recorded})", folder,
                             "choose another --out, or rename one of the videos")
    return "done" if (folder / DONE_FILE).is_file() else "partial"


def analyze_videos(inputs: Sequence[str | Path], predictor: Any, out: str | Path, config: AnalyzeConfig, *,
                   shard: tuple[int, int] = (1, 1), overwrite: bool = False,
                   sink_factories: Sequence[SinkFactory] = (), progress: Progress | None = None,
                   model_info: dict | None = None, command: str | None = None) -> BatchOutcome:
    """Analyse every video of `inputs` (files or folders) into `out`, skipping finished ones.

    Args:
        predictor: Torch/OnnxPredictor (anything with `predict` and `labels`).
        shard: (i, n): analyse only the i-th of n interleaved parts of the sorted video list.
        overwrite: redo videos that are already done.
        progress: called as progress("frames", done, total) across all videos (one bar).
    Returns the outcome; failures are one-line messages, never raised.
    """
    out = Path(out)
    limit_allocator_growth()  # flat memory over long videos (see inference/memory.py)
    jobs = select_shard(name_jobs(find_videos(inputs, exclude=out)), *shard)
    out.mkdir(parents=True, exist_ok=True)
    outcome = BatchOutcome(out)
    _record_run(out, command, config, model_info, shard, jobs)
    todo = []
    for job in jobs:
        try:
            state = job_state(out / job.name, job.path)
        except OocytesegError as exc:
            outcome.failed.append((job, exc.one_line()))
            continue
        if state == "done" and not overwrite:
            outcome.skipped.append(job)
        else:
            todo.append((job, state))
    total = sum(_expected_frames(job.path, config.fps) for job, _ in todo)
    done_frames = 0

    def advance(n: int) -> None:
        nonlocal done_frames, total
        done_frames += n
        total = max(total, done_frames)
        if progress:
            progress("frames", done_frames, total)

    for job, state in todo:
        folder = out / job.name
        if state != "new":
            shutil.rmtree(folder)  # ours (analysis.json checked): interrupted or --overwrite
        folder.mkdir(parents=True)
        write_json(folder / STARTED_FILE, {"video": str(job.path), "case": job.name, "command": command,
                                           "config": asdict(config), "model": model_info or {},
                                           "started": _now()})
        try:
            result = analyze_video(job.path, job.name, predictor, folder, config, sink_factories, advance,
                                   model_info)
        except OocytesegError as exc:
            outcome.failed.append((job, exc.one_line()))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad video must not stop the others
            where = traceback.extract_tb(exc.__traceback__)[-1]
            outcome.failed.append((job, f"{job.path}: analysis failed ({type(exc).__name__}: {exc} at "
                                        f"{Path(where.filename).name}:{where.lineno}). Fix: report this with the video."))
            continue
        write_json(folder / DONE_FILE, {"frames": result.frames, "seconds": round(result.seconds, 3),
                                        "finished": _now()})
        outcome.done.append(result)
    return outcome


def _expected_frames(path: Path, fps: float | None) -> int:
    """Frames the analysis of `path` will process, from the header (for the progress bar)."""
    video_fps, frames = probe_video(path)
    if fps and video_fps > fps:
        frames = int(frames / video_fps * fps)
    return max(frames, 1)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _record_run(out: Path, command: str | None, config: AnalyzeConfig, model_info: dict | None,
                shard: tuple[int, int], jobs: Sequence[VideoJob]) -> None:
    """run.json: this invocation (command, config, model, shard, videos), earlier ones under `history`."""
    path = out / "run.json"
    history: list = []
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
            history = previous.pop("history", []) + [previous]
        except (OSError, ValueError):
            history = []
    write_json(path, {"command": command, "config": asdict(config), "model": model_info or {},
                      "shard": f"{shard[0]}/{shard[1]}", "videos": {j.name: str(j.path) for j in jobs},
                      "started": _now(), "history": history})
