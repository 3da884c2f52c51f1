"""The local web app: upload videos or images, queue analyses, watch progress, view and download results.

Safety: uploads are limited in size and accepted only when their first bytes are a known video or
image format (the name is never trusted and never used as a path: files are stored under generated
ids); downloads are served only by job id plus a whitelisted artefact name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware.trustedhost import TrustedHostMiddleware

from oocyteseg.errors import OocytesegError
from oocyteseg.web.analysis import run_analysis
from oocyteseg.web.sniff import ACCEPTED, HEAD_BYTES, MediaType, display_name, is_unsafe_name, sniff_media
from oocyteseg.web.storage import Job, JobStore, new_job_id
from oocyteseg.web.worker import ARTEFACTS, Analyse, Worker

DEFAULT_MAX_UPLOAD = 2 * 1024**3
# Columns of the features table sent to the viewer (plots and table); downloads carry every column.
VIEW_COLUMNS = {"frame_index", "time_s", "f1", "f2", "f3", "f4", "tip_x", "tip_y", "tip_x_smooth", "tip_y_smooth",
                "oocyte_area", "serc_area", "penetration_depth", "qc", "qc_jump", "qc_flagged", "reason"}
# Columns of injection.csv sent to the viewer's injection curve (issue #17).
INJECTION_COLUMNS = ("frame", "time_s", "funnel_depth_px", "penetration_px")
_JOB_ID = re.compile(r"[0-9a-f]{32}")
# Inbox files must also carry a suffix of their kind: the engine tells images from videos by suffix.
_SUFFIXES = {"video": {".mp4", ".m4v", ".mov", ".wmv", ".asf", ".avi"}, "image": {".png", ".jpg", ".jpeg", ".tif", ".tiff"}}
STATIC = resources.files("oocyteseg.web") / "static"


class DataFolder:
    """The app's folder: jobs.sqlite, inbox/ (files to pick), uploads/ (stored uploads), jobs/<id>/ (outputs)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.inbox, self.uploads, self.jobs = self.root / "inbox", self.root / "uploads", self.root / "jobs"
        for d in (self.inbox, self.uploads, self.jobs):
            d.mkdir(parents=True, exist_ok=True)
        self.database = self.root / "jobs.sqlite"


def create_app(data_dir: str | os.PathLike, model_path: str | os.PathLike, *,
               max_upload_bytes: int = DEFAULT_MAX_UPLOAD, analyse: Analyse = run_analysis,
               store: JobStore | None = None, allowed_hosts: list[str] | None = None) -> FastAPI:
    """Build the app; the worker thread starts and stops with the app (its lifespan).

    Args:
        data_dir: the data folder (created if missing); see DataFolder.
        model_path: the model every analysis uses (a portable .pt checkpoint or .onnx).
        max_upload_bytes: largest accepted upload request body.
        analyse: the analysis function (tests pass a stand-in).
        store: the job store (default: SQLite in the data folder).
        allowed_hosts: Host header names accepted (None: any); `oocyteseg serve` on a loopback address
            passes the loopback names, so a web page elsewhere cannot reach the app by DNS rebinding.
    """
    folder = DataFolder(data_dir)
    store = store or JobStore(folder.database)
    worker = Worker(store, folder.jobs, Path(model_path), analyse)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    app = FastAPI(title="oocyteseg", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.folder, app.state.store, app.state.worker = folder, store, worker
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)

    @app.middleware("http")
    async def same_origin_writes(request: Request, call_next):
        # Another web site open in the same browser may POST here (forms need no CORS preflight):
        # browsers send Origin with such requests, so writes are accepted only from this app's own pages.
        origin = request.headers.get("origin")
        if request.method not in ("GET", "HEAD", "OPTIONS") and origin is not None:
            if urlsplit(origin).netloc != request.headers.get("host", ""):
                return JSONResponse({"detail": "cross-site request refused; use the oocyteseg page itself"},
                                    status_code=403)
        return await call_next(request)

    @app.exception_handler(OocytesegError)
    async def _project_error(_request: Request, exc: OocytesegError) -> JSONResponse:
        return JSONResponse({"detail": exc.one_line()}, status_code=400)

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/api/health")
    def health() -> dict[str, Any]:
        return {"ok": True, "worker_alive": worker.alive, "queued": store.count("queued"),
                "running": store.count("running"), "model": Path(model_path).name,
                "max_upload_bytes": max_upload_bytes, "accepted": ACCEPTED}

    @app.post("/api/jobs", status_code=201)
    async def upload(request: Request) -> dict[str, Any]:
        files = await _read_uploads(request, max_upload_bytes)
        checked = [(f, _check_upload(f)) for f in files]
        jobs = []
        for f, media in checked:
            job_id = new_job_id()
            target = folder.uploads / f"{job_id}{media.suffix}"
            await run_in_threadpool(_save, f, target)
            jobs.append(store.add(Job(id=job_id, name=display_name(f.filename or ""), kind=media.kind,
                                      input_path=str(target))))
        worker.notify()
        return {"jobs": [j.public() for j in jobs]}

    @app.get("/api/inbox")
    def inbox() -> dict[str, Any]:
        return {"files": [{"name": p.name, "size": p.stat().st_size, "kind": m.kind}
                          for p, m in _inbox_files(folder.inbox).items()]}

    @app.post("/api/inbox/jobs", status_code=201)
    def from_inbox(body: dict[str, Any]) -> dict[str, Any]:
        names = body.get("names")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise HTTPException(400, "give {\"names\": [file names from /api/inbox]}")
        available = {p.name: (p, m) for p, m in _inbox_files(folder.inbox).items()}
        for name in names:
            if is_unsafe_name(name):
                raise HTTPException(400, f"file name {display_name(name)!r} is not a plain name in the inbox")
            if name not in available:
                raise HTTPException(404, f"no video or image named {display_name(name)!r} in the inbox")
        jobs = [store.add(Job(id=new_job_id(), name=display_name(n), kind=available[n][1].kind,
                              input_path=str(available[n][0]))) for n in names]
        worker.notify()
        return {"jobs": [j.public() for j in jobs]}

    @app.get("/api/jobs")
    def list_jobs() -> dict[str, Any]:
        return {"jobs": [j.public() for j in store.list()]}

    @app.get("/api/jobs/{job_id}")
    def get_job(job_id: str) -> dict[str, Any]:
        return _job_or_404(store, job_id).public()

    @app.get("/api/jobs/{job_id}/frames")
    def frames(job_id: str) -> Response:
        job = _job_or_404(store, job_id)
        table = folder.jobs / job.id / "features.parquet"
        if job.state != "done" or "features.parquet" not in job.artefacts or not table.is_file():
            raise HTTPException(409, f"job is {job.state}; the frame table exists once it is done")
        df = pd.read_parquet(table)
        df = df[[c for c in df.columns if c in VIEW_COLUMNS]]  # what the viewer shows; the rest is in the CSV
        return Response(df.to_json(orient="split", index=False, double_precision=6), media_type="application/json")

    @app.get("/api/jobs/{job_id}/injection")
    def injection(job_id: str) -> Response:
        """The injection of a done job (issue #17): {columns, data} of injection.csv's INJECTION_COLUMNS,
        events (events.csv rows) and the summary; empty lists when the analysis read none."""
        job = _job_or_404(store, job_id)
        if job.state != "done":
            raise HTTPException(409, f"job is {job.state}; the injection exists once it is done")
        return Response(injection_json(folder.jobs / job.id, job), media_type="application/json")

    @app.get("/api/jobs/{job_id}/files/{name}")
    def download(job_id: str, name: str) -> FileResponse:
        job = _job_or_404(store, job_id)
        if name not in ARTEFACTS:
            raise HTTPException(404, f"unknown artefact {display_name(name)!r}; valid: {', '.join(ARTEFACTS)}")
        path = folder.jobs / job.id / name
        if name not in job.artefacts or not path.is_file():
            raise HTTPException(404, f"this job has no {name}")
        inline = name.endswith((".mp4", ".png", ".html", ".json"))
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(job.name).stem)[:60] or "job"
        return FileResponse(str(path), media_type=ARTEFACTS[name], filename=f"{stem}_{name}",
                            content_disposition_type="inline" if inline else "attachment")

    return app


def injection_json(out: Path, job: Job) -> str:
    """What /api/jobs/{id}/injection answers, as JSON text (strict: NaN becomes null)."""
    table, events = out / "injection.csv", out / "events.csv"
    view = pd.DataFrame(columns=list(INJECTION_COLUMNS))
    if "injection.csv" in job.artefacts and table.is_file():
        df = pd.read_csv(table)
        view = df[[c for c in INJECTION_COLUMNS if c in df.columns]]
    rows = pd.read_csv(events) if "events.csv" in job.artefacts and events.is_file() else pd.DataFrame()
    payload = json.loads(view.to_json(orient="split", index=False, double_precision=6))
    payload["events"] = json.loads(rows.to_json(orient="records", double_precision=6)) if len(rows) else []
    payload["summary"] = (job.summary or {}).get("injection") or {}
    return json.dumps(payload)


def _job_or_404(store: JobStore, job_id: str) -> Job:
    job = store.get(job_id) if _JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise HTTPException(404, f"unknown job id {display_name(job_id)[:40]!r}")
    return job


async def _read_uploads(request: Request, limit: int) -> list[UploadFile]:
    """The uploaded files of a multipart request, reading at most `limit` bytes of body (else 413)."""
    too_big = HTTPException(413, f"upload larger than the limit of {limit} bytes; "
                                 "upload fewer or smaller files, or start the server with a larger --max-upload-mb")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_big
    seen = 0
    receive = request.receive

    async def bounded_receive():
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise too_big
        return message

    limited = Request(request.scope, bounded_receive)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send files as multipart/form-data (field name 'files')")
    form = await limited.form(max_files=100)
    files = [v for v in form.getlist("files") if isinstance(v, UploadFile)]
    if not files:
        raise HTTPException(400, "no file in the upload (field name 'files')")
    return files


def _check_upload(f: UploadFile) -> MediaType:
    name = f.filename or ""
    if is_unsafe_name(name):
        raise HTTPException(400, f"file name {display_name(name)!r} contains a path; upload a plain file name")
    f.file.seek(0)
    head = f.file.read(HEAD_BYTES)
    f.file.seek(0)
    media = sniff_media(head)
    if media is None:
        raise HTTPException(415, f"{display_name(name)!r} is not a recognised video or image (checked by content); "
                                 f"accepted: {ACCEPTED}")
    return media


def _save(f: UploadFile, target: Path) -> None:
    tmp = target.with_name(target.name + ".part")
    with open(tmp, "wb") as out:
        shutil.copyfileobj(f.file, out, 1024 * 1024)
    tmp.replace(target)


def _inbox_files(inbox: Path) -> dict[Path, MediaType]:
    """Regular files directly in the inbox (no links, no sub-folders) whose content and suffix are accepted."""
    found = {}
    for p in sorted(inbox.iterdir()):
        if p.is_symlink() or not p.is_file() or p.name.startswith("."):
            continue
        with open(p, "rb") as fh:
            media = sniff_media(fh.read(HEAD_BYTES))
        if media is not None and p.suffix.lower() in _SUFFIXES[media.kind]:
            found[p] = media
    return found
