"""ICSI videos -> PNG stills sampled by presentation time, plus a frames table (CSV).

Layout of the output folder::

    OUT/frames.csv                                  case, video, frame_index, time_s, path, width, height
    OUT/<case>/<case>_<video>_f<index>_t<seconds>.png
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oocyteseg.data.ingest_common import (IngestResult, Progress, case_from_layout, frame_stem,
                                          relative_to, safe_name)
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable, write_table
from oocyteseg.io.images import write_image
from oocyteseg.io.video import VIDEO_SUFFIXES, probe_video, sample_frames

FRAMES_COLUMNS = ["case", "video", "frame_index", "time_s", "path", "width", "height"]


@dataclass(frozen=True)
class VideoSource:
    """One input video with its case id and its video id (unique within the case)."""

    path: Path
    case: str
    video: str


def find_video_files(inputs: Sequence[str | os.PathLike], exclude: str | os.PathLike | None = None
                     ) -> list[tuple[Path, Path | None]]:
    """(video, root) for every input file and every file with a video suffix (`VIDEO_SUFFIXES`, hidden
    files skipped) under input folders, searched recursively: resolved, in input order, sorted within a
    folder; a video listed twice appears twice. root is the folder passed (None for a file passed
    directly); files under `exclude` (e.g. the output folder) are not searched.
    """
    skip = Path(exclude).resolve() if exclude is not None else None
    found: list[tuple[Path, Path | None]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            root = path.resolve()
            found += [(f, root) for f in sorted(root.rglob("*")) if f.suffix.lower() in VIDEO_SUFFIXES
                      and not f.name.startswith(".") and f.is_file() and not (skip and f.is_relative_to(skip))]
        elif path.is_file():
            found.append((path.resolve(), None))
        else:
            raise OocytesegError("no such video or folder", path, "check the path")
    if not found:
        raise OocytesegError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) found", ", ".join(map(str, inputs)),
                             "pass video files or folders that contain videos")
    return found


def video_ids(videos: Sequence[tuple[Path, str]]) -> list[str]:
    """Video id of each (path, case): the stem, or `<stem>-<suffix>` where the case holds several videos
    with that stem (case01.mp4 and case01.wmv become case01-mp4 and case01-wmv)."""
    stems: dict[tuple[str, str], int] = {}
    for path, case in videos:
        stems[(case, path.stem)] = stems.get((case, path.stem), 0) + 1
    return [path.stem if stems[(case, path.stem)] == 1 else f"{path.stem}-{path.suffix.lstrip('.').lower()}"
            for path, case in videos]


def find_videos(inputs: Sequence[str | os.PathLike], case: str | None = None) -> tuple[list[VideoSource], list[OocytesegError]]:
    """Videos named by the inputs (`find_video_files`), with case and video ids.

    Case id: `case` if given, else DIR/<case>/... for files found in a folder, else the file's stem.
    Video id: `video_ids`. A video listed twice, or two videos with one id in a case, is an error.
    """
    cased: list[tuple[Path, str]] = []
    errors: list[OocytesegError] = []
    seen: set[Path] = set()
    for path, root in find_video_files(inputs):
        if path in seen:
            errors.append(OocytesegError("video listed twice", path, "pass each video once"))
            continue
        seen.add(path)
        cased.append((path, case_from_layout(path, root, case)))
    out, ids = [], set()
    for (path, c), vid in zip(cased, video_ids(cased)):
        if (c, vid) in ids:
            errors.append(OocytesegError(f"duplicate video name {vid!r} in case {c!r}", path,
                                         "rename one of the videos or pass --case"))
            continue
        ids.add((c, vid))
        out.append(VideoSource(path, c, vid))
    return out, errors


def extract_frames(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, *, fps: float | None = 1.0,
                   case: str | None = None, overwrite: bool = False, strict: bool = True,
                   progress: Progress | None = None) -> IngestResult:
    """Decode videos and write frames sampled at `fps` (None: every frame) as PNG plus OUT/frames.csv.

    Good videos are written even when others fail; failures are returned in `errors` (the frames
    already written for a failed video are removed, so the table and the folder agree).
    """
    out = Path(out)
    table = check_writable(out / "frames.csv", overwrite)
    sources, errors = find_videos(inputs, case)
    rows: list[dict] = []
    for n, src in enumerate(sources):
        try:
            rows += _extract_one(src, out, fps, overwrite, strict, progress)
        except OocytesegError as exc:
            errors.append(exc)
        if progress:
            progress("videos", n + 1, len(sources))
    if rows:
        write_table(pd.DataFrame(rows, columns=FRAMES_COLUMNS), table, overwrite=overwrite)
    return IngestResult(table=table if rows else None, rows=len(rows), errors=errors)


def _extract_one(src: VideoSource, out: Path, fps: float | None, overwrite: bool, strict: bool,
                 progress: Progress | None) -> list[dict]:
    info = probe_video(src.path)
    duration = info.duration_s if not math.isnan(info.duration_s) else 0.0
    expected = info.frames or int(duration * info.fps)
    if fps is not None and duration and info.fps:
        expected = int(math.floor((duration - 1.0 / info.fps) * fps + 1e-6)) + 1  # instants up to the last frame
    video_rel = relative_to(src.path.resolve(), out.resolve())
    written: list[Path] = []
    rows = []
    try:
        for frame in sample_frames(src.path, fps, strict=strict):
            name = frame_stem(src.case, src.video, frame.index, frame.time_s) + ".png"
            path = out / safe_name(src.case) / name
            write_image(path, frame.image, overwrite)
            written.append(path)
            h, w = frame.image.shape[:2]
            rows.append({"case": src.case, "video": video_rel, "frame_index": frame.index,
                         "time_s": round(frame.time_s, 6), "path": relative_to(path, out), "width": w, "height": h})
            if progress:
                progress(f"{src.case}/{src.video}", len(rows), max(expected, len(rows)))
    except OocytesegError:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return rows
