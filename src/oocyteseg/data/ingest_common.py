"""Shared pieces of the ingestion commands: case ids from folder layouts, frame names, run results."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oocyteseg.errors import OocytesegError
from oocyteseg.progress import ProgressFn as Progress

if TYPE_CHECKING:
    from oocyteseg.io.classes_file import ClassesFile


# `<anything>_f<index>_t<seconds>`: how `oocyteseg frames` and the phantom name video frames.
FRAME_NAME = re.compile(r"_f(?P<index>\d+)_t(?P<time>\d+(?:\.\d+)?)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


@dataclass
class IngestResult:
    """What an ingestion run wrote, and the inputs it could not use (each an OocytesegError)."""

    table: Path | None
    rows: int
    errors: list[OocytesegError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def safe_name(text: str) -> str:
    """A file-name-safe version of a case or video id (spaces and odd characters become '-')."""
    cleaned = _UNSAFE.sub("-", text).strip("-.")
    return cleaned or "x"


def case_from_layout(path: Path, root: Path | None, case: str | None) -> str:
    """Case id: `case` if given; else the first folder under `root` (ROOT/<case>/...); else the file's stem."""
    if case:
        return case
    if root is not None:
        rel = path.relative_to(root)
        if len(rel.parts) > 1:
            return rel.parts[0]
    return path.stem


def parse_frame_name(stem: str) -> tuple[int, float]:
    """(frame_index, time_s) encoded in a frame's file name, or (-1, NaN) when it has none."""
    m = FRAME_NAME.search(stem)
    if not m:
        return -1, float("nan")
    return int(m.group("index")), float(m.group("time"))


def frame_stem(case: str, video: str, index: int, time_s: float) -> str:
    """File stem of a video frame: case, video, frame index and presentation time."""
    return f"{safe_name(case)}_{safe_name(video)}_f{index:05d}_t{time_s:08.3f}"


def collect_files(inputs: Iterable[str | os.PathLike], suffixes: tuple[str, ...],
                  what: str) -> list[tuple[Path, Path | None]]:
    """(file, root) for every input file and every matching file under input folders (sorted).

    `root` is the folder the user passed (None for a file passed directly). A missing input raises.
    """
    found: list[tuple[Path, Path | None]] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in suffixes
                           and not f.name.startswith("."))
            if not files:
                raise OocytesegError(f"no {what} files ({', '.join(suffixes)}) in this folder", p,
                                     f"pass a folder that contains {what} files")
            found += [(f, p) for f in files]
        elif p.is_file():
            found.append((p, None))
        else:
            raise OocytesegError("input not found", p, "check the path")
    return found


def relative_to(path: Path, root: Path) -> str:
    """`path` relative to `root` (POSIX separators), for tables that live in `root`."""
    return Path(os.path.relpath(path, root)).as_posix()


def color_preview(image: np.ndarray, mask: np.ndarray, colors: list[tuple[int, int, int]],
                  alpha: float = 0.45) -> np.ndarray:
    """The image with each class painted in its colour (background left as is), for a quick look."""
    palette = np.array(colors + [(255, 255, 255)] * (256 - len(colors)), np.float32)
    out = image.astype(np.float32)
    fg = mask > 0
    out[fg] = (1 - alpha) * out[fg] + alpha * palette[mask[fg]]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def write_errors(errors: list[OocytesegError], path: Path) -> Path | None:
    """A CSV listing the inputs that failed (path, message, fix), or nothing when none failed."""
    import pandas as pd

    from oocyteseg.io.atomic import write_table

    if not errors:
        if path.exists():
            path.unlink()  # a stale list from an earlier run would mislead
        return None
    rows = [{"path": e.path or "", "message": e.message, "fix": e.fix or ""} for e in errors]
    return write_table(pd.DataFrame(rows, columns=["path", "message", "fix"]), path, overwrite=True)


def finish_mask_ingest(result: IngestResult, rows: list[dict], columns: list[str], manifest: Path,
                       classes: ClassesFile, out: Path, overwrite: bool) -> IngestResult:
    """Write the manifest and the classes file beside it (when any row was made) and the list of failures."""
    import pandas as pd

    from oocyteseg.data.labels import write_dataset_classes
    from oocyteseg.io.atomic import write_table

    if rows:
        write_table(pd.DataFrame(rows, columns=columns), manifest, overwrite=overwrite)
        write_dataset_classes(classes, out)
        result.table, result.rows = manifest, len(rows)
    write_errors(result.errors, out / "failed.csv")
    return result
