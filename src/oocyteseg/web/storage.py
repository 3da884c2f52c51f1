"""The list of analyses: a small store with a narrow interface, backed by an embedded SQLite file.

Everything the web app keeps about a job goes through `JobStore` (add, get, list, update,
next_queued, requeue_interrupted), so a server database can replace this class without touching
the rest. Connections are opened per call, so the store is safe to use from the worker thread and
the request threads at once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    input_path TEXT NOT NULL,
    state TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    summary TEXT NOT NULL DEFAULT '{}',
    artefacts TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created);
"""
_JSON_FIELDS = ("summary", "artefacts")
_UPDATABLE = {"state", "progress", "error", "started", "finished", "summary", "artefacts"}


def new_job_id() -> str:
    """A fresh job id: 32 lowercase hex digits (also the name of the job's folders)."""
    return uuid.uuid4().hex


@dataclass
class Job:
    """One analysis: what was given, where it stands and what it produced."""

    id: str
    name: str  # display name of the uploaded file (never used as a path)
    kind: str  # 'video' or 'image'
    input_path: str
    state: str = "queued"
    progress: float = 0.0
    error: str = ""
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    artefacts: list[str] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The job as the API shows it (no server paths)."""
        out = asdict(self)
        out.pop("input_path")
        return out


class JobStore:
    """Jobs kept in an SQLite database file (created on first use)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # serialises writers inside this process
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(self, job: Job) -> Job:
        """Insert a new job."""
        row = asdict(job)
        for key in _JSON_FIELDS:
            row[key] = json.dumps(row[key])
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._lock, self._connect() as db:
            db.execute(f"INSERT INTO jobs ({cols}) VALUES ({marks})", row)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list(self, limit: int = 200) -> list[Job]:
        """The most recent jobs, newest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs ORDER BY created DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [_job(r) for r in rows]

    def update(self, job_id: str, **fields: Any) -> None:
        """Change some fields of a job (state, progress, error, started, finished, summary, artefacts)."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise KeyError(f"cannot update job fields {sorted(unknown)}; valid: {', '.join(sorted(_UPDATABLE))}")
        if "state" in fields and fields["state"] not in STATES:
            raise ValueError(f"unknown job state {fields['state']!r}; valid: {', '.join(STATES)}")
        values = {k: json.dumps(v) if k in _JSON_FIELDS else v for k, v in fields.items()}
        sets = ", ".join(f"{k} = :{k}" for k in values)
        with self._lock, self._connect() as db:
            db.execute(f"UPDATE jobs SET {sets} WHERE id = :_id", {**values, "_id": job_id})

    def next_queued(self) -> Job | None:
        """The oldest queued job, or None."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY created, rowid LIMIT 1").fetchone()
        return _job(row) if row else None

    def requeue_interrupted(self) -> int:
        """Put jobs left 'running' by a stopped server back in the queue; returns how many."""
        with self._lock, self._connect() as db:
            cur = db.execute("UPDATE jobs SET state = 'queued', progress = 0, started = NULL WHERE state = 'running'")
        return cur.rowcount

    def count(self, state: str) -> int:
        """Number of jobs in a state."""
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,)).fetchone()[0])


def _job(row: sqlite3.Row) -> Job:
    data = dict(row)
    for key in _JSON_FIELDS:
        data[key] = json.loads(data[key])
    return Job(**data)
