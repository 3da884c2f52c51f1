"""One background thread that runs queued analyses one at a time, so the page stays responsive.

A job that fails is marked 'failed' with its one-line error and the worker goes on with the next.
Finished jobs keep only whitelisted artefacts (see ARTEFACTS); folders of masks and LabelMe files
are packed into zip archives for download.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oocyteseg.errors import OocytesegError
from oocyteseg.inference.summary import clean_json
from oocyteseg.web.storage import Job, JobStore

log = logging.getLogger(__name__)

# Downloadable artefacts: name -> MIME type. Nothing else under a job folder is ever served.
ARTEFACTS: dict[str, str] = {
    "overlay.mp4": "video/mp4",
    "overlay.png": "image/png",
    "features.csv": "text/csv",
    "features.parquet": "application/vnd.apache.parquet",
    "report.html": "text/html",
    "masks.zip": "application/zip",
    "labelme.zip": "application/zip",
    "summary.json": "application/json",
    "injection.csv": "text/csv",
    "events.csv": "text/csv",
    "injection.json": "application/json",
}
_FOLDERS = {"masks": "masks.zip", "labelme": "labelme.zip"}

Analyse = Callable[[Path, Path, Path, Callable[[float], None]], dict[str, Any]]


class Worker:
    """Runs `analyse(input, model, out_dir, progress)` for each queued job of `store`, oldest first.

    Args:
        store: the job store.
        jobs_dir: where each job's output folder (`<jobs_dir>/<job id>`) is made.
        model_path: the model every job uses.
        analyse: the analysis function (web.analysis.run_analysis by default).
    """

    def __init__(self, store: JobStore, jobs_dir: Path, model_path: Path, analyse: Analyse):
        self.store, self.jobs_dir, self.model_path, self.analyse = store, Path(jobs_dir), Path(model_path), analyse
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (jobs left running by a previous server are queued again first)."""
        self.store.requeue_interrupted()
        self._thread = threading.Thread(target=self._loop, name="oocyteseg-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop after the current job and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        """Tell the worker that a job was queued."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.next_queued()
            if job is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            self.run_job(job)

    def run_job(self, job: Job) -> None:
        """Run one job to 'done' or 'failed' (never raises)."""
        out = self.jobs_dir / job.id
        self.store.update(job.id, state="running", started=time.time(), progress=0.0, error="")
        last = [0.0, 0.0]  # last stored fraction and time: write progress at most every 0.2 s

        def progress(fraction: float) -> None:
            now = time.monotonic()
            if fraction >= 1.0 or (fraction - last[0] >= 0.005 and now - last[1] >= 0.2):
                last[:] = [fraction, now]
                self.store.update(job.id, progress=float(min(max(fraction, 0.0), 1.0)))

        try:
            staged = stage_input(Path(job.input_path), job.name, out / "input")
            result = self.analyse(staged, self.model_path, out / "analysis", progress)
            artefacts = collect_artefacts(out, result.get("files", {}))
            self.store.update(job.id, state="done", progress=1.0, finished=time.time(),
                              summary=clean_json(result.get("summary", {})), artefacts=artefacts)
        except Exception as exc:  # a failed job must not stop the worker
            message = exc.one_line() if isinstance(exc, OocytesegError) else f"{type(exc).__name__}: {exc}"
            for path in (out / "input", job.input_path):  # the user knows the file by its name, not our paths
                message = re.sub(re.escape(str(path)) + r"[^\s:]*", job.name, message)
            if not isinstance(exc, OocytesegError):
                log.exception("job %s failed", job.id)
            self.store.update(job.id, state="failed", finished=time.time(), error=" ".join(message.split())[:500])


def safe_stem(name: str) -> str:
    """A file-system-safe stem from a display name ('case 01 (2).mp4' -> 'case_01_2')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._")[:60] or "video"


def stage_input(source: Path, name: str, folder: Path) -> Path:
    """A link (or copy) of the stored input named after the upload, so tables say 'case01', not an id."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{safe_stem(name)}{source.suffix}"
    if not target.exists():
        try:
            os.link(source, target)
        except OSError:  # another file system, or links not allowed
            shutil.copyfile(source, target)
    return target


def collect_artefacts(out: Path, files: dict[str, Any]) -> list[str]:
    """Put the engine's outputs under their whitelisted names in `out` (linked, else copied); returns the names."""
    names = []
    for name, path in files.items():
        path = Path(path)
        if name in _FOLDERS and path.is_dir():
            _zip_folder(path, out / _FOLDERS[name])
            names.append(_FOLDERS[name])
        elif name in ARTEFACTS and path.is_file():
            target = out / name
            if path.resolve() != target.resolve():
                target.unlink(missing_ok=True)
                try:
                    os.link(path, target)
                except OSError:
                    shutil.copyfile(path, target)
            names.append(name)
    return sorted(set(names))


def _zip_folder(folder: Path, target: Path) -> None:
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(folder).as_posix())
    tmp.replace(target)
