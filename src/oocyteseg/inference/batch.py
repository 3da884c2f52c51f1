"""Analyse many videos: find them, name their output folders, shard, resume, and carry on past bad files.

Each video gets OUT/<case>/<video>/. The case comes from the folder layout exactly as `oocyteseg
frames` derives it (`data.ingest_common.case_from_layout`: VIDEOS/<case>/..., else the file's stem),
or from `case=` for a single video; the video id is the file stem (`<stem>-<suffix>` where one case
holds two videos with that stem, as `oocyteseg frames` names them). `analysis.json` is written first
and `done.json` last: a folder with done.json is finished and skipped on the next run; one without it
was interrupted and is redone from scratch. A video that cannot be read becomes a one-line error in
the outcome, and the other videos still finish. OUT/summary.csv has one row per finished video.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oocyteseg.data.ingest_common import case_from_layout, safe_name
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_json, write_table
from oocyteseg.data.ingest_frames import find_video_files as _find_files, video_ids
from oocyteseg.io.video import VideoInfo, probe_video
from oocyteseg.inference.memory import limit_allocator_growth
from oocyteseg.inference.sinks import SinkFactory
from oocyteseg.inference.summary import RUN_SUMMARY_FILE, run_summary_table
from oocyteseg.inference.video_analysis import AnalyzeConfig, VideoResult, analyze_video
from oocyteseg.progress import ProgressFn as Progress

STARTED_FILE = "analysis.json"
DONE_FILE = "done.json"



@dataclass(frozen=True)
class VideoJob:
    """One input video, its case id and its video id (unique within the case; the tables' `video` is the path)."""

    path: Path
    case: str
    video_id: str

    @property
    def name(self) -> str:
        """The output folder relative to OUT: `<case>/<video id>` (file-name-safe)."""
        return f"{safe_name(self.case)}/{safe_name(self.video_id)}"


@dataclass
class BatchOutcome:
    """Results of `analyze_videos`: finished, skipped (already done) and failed videos."""

    out: Path
    done: list[VideoResult] = field(default_factory=list)
    skipped: list[VideoJob] = field(default_factory=list)
    failed: list[tuple[VideoJob, str]] = field(default_factory=list)


def find_video_files(inputs: Sequence[str | Path], exclude: str | Path | None = None) -> list[tuple[Path, Path | None]]:
    """(video, root) of `data.ingest_frames.find_video_files`, sorted by path, each video once (its first input)."""
    found: dict[Path, Path | None] = {}
    for video, root in _find_files(inputs, exclude):
        found.setdefault(video, root)
    return sorted(found.items())


def find_videos(inputs: Sequence[str | Path], exclude: str | Path | None = None) -> list[Path]:
    """Video files named directly, plus those found (recursively, by suffix) in named folders; sorted."""
    return [video for video, _ in find_video_files(inputs, exclude)]


def name_jobs(videos: Sequence[tuple[Path, Path | None]], case: str | None = None) -> list[VideoJob]:
    """Case and video ids of (video, root) pairs, in their order.

    Case: `case` if given, else the folder layout (`case_from_layout`, the rule of `oocyteseg frames`).
    Video: the stem; `<stem>-<suffix>` where one case holds several videos with that stem (as
    `oocyteseg frames` names them); `-2`, `-3`... if two output folders would still be equal.
    """
    cased = [(path, case_from_layout(path, root, case)) for path, root in videos]
    jobs, used = [], set()
    for (path, c), video in zip(cased, video_ids(cased)):
        job, k = VideoJob(path, c, video), 2
        while job.name in used:
            job, k = VideoJob(path, c, f"{video}-{k}"), k + 1
        used.add(job.name)
        jobs.append(job)
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
    if (folder.parent / STARTED_FILE).is_file():  # OUT/<name>/ of versions before case folders
        raise OocytesegError("folder holds an analysis made before output folders were OUT/<case>/<video>/",
                             folder.parent, "choose another --out or move the old folder away")
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
                   case: str | None = None, shard: tuple[int, int] = (1, 1), overwrite: bool = False,
                   sink_factories: Sequence[SinkFactory] = (), progress: Progress | None = None,
                   model_info: dict | None = None, command: str | None = None) -> BatchOutcome:
    """Analyse every video of `inputs` (files or folders) into `out`, skipping finished ones.

    Args:
        predictor: Torch/OnnxPredictor (anything with `predict` and `labels`).
        case: the case id of the one input video (default: from the folder layout, see `name_jobs`).
        shard: (i, n): analyse only the i-th of n interleaved parts of the sorted video list.
        overwrite: redo videos that are already done.
        progress: called as progress("frames", done, total) across all videos (one bar).
    Returns the outcome; failures of videos are one-line messages, never raised.
    """
    out = Path(out)
    limit_allocator_growth()  # flat memory over long videos (see inference/memory.py)
    videos = find_video_files(inputs, exclude=out)
    if case is not None and (len(videos) != 1 or not case.strip()):
        raise OocytesegError(f"--case {case!r} needs exactly one input video and a non-empty name, "
                             f"got {len(videos)} videos", fix="analyse one video per --case, or leave --case out "
                                                                "(cases then come from VIDEOS/<case>/...)")
    jobs = select_shard(name_jobs(videos, case), *shard)
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
    infos = {job.path: _probe(job.path) for job, _ in todo}  # once per video: progress total and analysis
    total = sum(_expected_frames(infos[job.path], config.fps) for job, _ in todo)
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
        write_json(folder / STARTED_FILE, {"video": str(job.path), "case": job.case, "folder": job.name,
                                           "command": command, "config": asdict(config),
                                           "model": model_info or {}, "started": _now()})
        try:
            result = analyze_video(job.path, job.case, predictor, folder, config, sink_factories, advance,
                                   model_info, infos[job.path])
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
    write_table(run_summary_table(_summaries(out)), out / RUN_SUMMARY_FILE, overwrite=True)
    return outcome


def finished_folders(out: Path) -> list[Path]:
    """Folders of finished analyses (with done.json) in `out`: OUT/<case>/<video>/, and OUT/<name>/ of
    runs made before case folders; sorted by path."""
    return sorted(p.parent for pattern in (f"*/{DONE_FILE}", f"*/*/{DONE_FILE}") for p in out.glob(pattern))


def _summaries(out: Path) -> list[tuple[str, dict]]:
    """(folder relative to out, summary.json) of every finished analysis in `out` (all shards, all runs)."""
    rows = []
    for folder in finished_folders(out):
        try:
            rows.append((folder.relative_to(out).as_posix(), json.loads((folder / "summary.json").read_text())))
        except (OSError, ValueError):
            continue  # removed or being rewritten by another shard: its own run lists it
    return rows


def _probe(path: Path) -> VideoInfo | None:
    """The video's header, or None when unreadable (the analysis then reports the file's error)."""
    try:
        return probe_video(path)
    except OocytesegError:
        return None


def _expected_frames(info: VideoInfo | None, fps: float | None) -> int:
    """Frames the analysis of a video will process, from its header (for the progress bar)."""
    if info is None:
        return 1
    frames = info.frames or (int(round(info.duration_s * info.fps)) if info.duration_s == info.duration_s else 0)
    if fps and info.fps > fps:
        frames = int(frames / info.fps * fps)
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
                      "shard": f"{shard[0]}/{shard[1]}",
                      "videos": [{"case": j.case, "video": str(j.path), "folder": j.name} for j in jobs],
                      "started": _now(), "history": history})
