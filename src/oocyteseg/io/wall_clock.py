"""Wall time spent on a study or training folder over all its runs, including runs that were killed half way.

A study or a training run that resumes (`--resume`) is timed as the sum of its runs. Writing that sum only
when a run finishes loses the time of a run that was interrupted (Ctrl-C, `kill`, a closed terminal): its
half-trained fold is then trained again from its last checkpoint by the next run, and the study would look
faster than it was. `RunClock` keeps the sum in a small JSON ledger next to the results (a study folder, a
training run folder) and rewrites it every few seconds from a background thread, so a killed run loses at
most that interval."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_json

LEDGER_NAME = "wall_time.json"


class RunClock:
    """Context manager timing one run of a study or training folder and adding it to the folder's earlier runs.

    `fallback` is a results file written by older versions at the end of a run (`seconds_total` or
    `seconds`, and `runs`): used when the folder has no ledger yet.
    """

    def __init__(self, folder: str | os.PathLike, every: float = 15.0, fallback: str | os.PathLike | None = None,
                 resume: bool = True) -> None:
        self.path = Path(folder) / LEDGER_NAME
        self.every = every
        self.earlier, self.earlier_runs = _earlier(self.path, Path(fallback) if fallback else None) if resume \
            else (0.0, 0)
        self._start = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def seconds(self) -> float:
        """Wall time of this run so far."""
        return time.time() - self._start if self._start else 0.0

    @property
    def total(self) -> float:
        """Wall time of all runs of the folder, this one included."""
        return self.earlier + self.seconds

    @property
    def runs(self) -> int:
        """Runs of the folder, this one included."""
        return self.earlier_runs + 1

    def write(self) -> None:
        """Record the time so far (atomic; the folder is created if needed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.path, {"seconds_total": round(self.total, 1), "runs": self.runs,
                               "this_run_seconds": round(self.seconds, 1)}, overwrite=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.write()
            except OSError:  # a full disk must not kill the study; the next beat or the final write retries
                pass

    def __enter__(self) -> RunClock:
        self._start = time.time()
        self.write()
        self._thread = threading.Thread(target=self._beat, name="run-clock", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.write()


def _earlier(ledger: Path, fallback: Path | None) -> tuple[float, int]:
    """(seconds, runs) already spent on the folder: from the ledger, else from an older results file."""
    for path in (ledger, fallback):
        if path is not None and path.is_file():
            try:
                saved = json.loads(path.read_text())
                return float(saved.get("seconds_total", saved.get("seconds", 0.0))), int(saved.get("runs", 1))
            except (ValueError, AttributeError, TypeError) as err:
                raise OocytesegError(f"cannot read the folder's earlier run time ({err})", path,
                                     "delete the file (the time of earlier runs is then not counted)") from err
    return 0.0, 0
