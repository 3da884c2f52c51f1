"""API tests (FastAPI TestClient): uploads, the job lifecycle, downloads and every rejection."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_table
from oocyteseg.web.app import create_app

MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
FAKE_MP4 = MP4_HEAD + b"\x00" * 200


class GatedAnalysis:
    """Stand-in analysis that holds each job in 'running' until released; content 'FAIL' fails."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, video: Path, model: Path, out: Path, progress) -> dict:
        self.started.set()
        progress(0.5)
        assert self.release.wait(20), "test never released the job"
        if b"FAIL" in video.read_bytes():
            raise OocytesegError("not a readable video (InvalidDataError)", video, "re-export the video")
        out.mkdir(parents=True, exist_ok=True)
        df = pd.DataFrame({"frame_index": [0, 1], "time_s": [0.0, 0.5], "f1": [0.9, 0.8], "qc": ["", "jump:f1"]})
        write_table(df, out / "features.csv")
        write_table(df, out / "features.parquet")
        return {"summary": {"frames": 2}, "files": {"features.csv": out / "features.csv",
                                                    "features.parquet": out / "features.parquet"}}


def wait_for(client: TestClient, job_id: str, states: tuple[str, ...], timeout: float = 30.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in states:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach {states}; last: {job}")


def upload(client: TestClient, name: str, data: bytes):
    return client.post("/api/jobs", files=[("files", (name, data, "application/octet-stream"))])


@pytest.fixture
def gated(tmp_path, tiny_model):
    analysis = GatedAnalysis()
    with TestClient(create_app(tmp_path / "data", tiny_model, analyse=analysis, max_upload_bytes=4096)) as client:
        yield client, analysis, tmp_path / "data"
        analysis.release.set()


def test_lifecycle_queued_running_done_and_failed(gated):
    client, analysis, data = gated
    first = upload(client, "first.mp4", FAKE_MP4)
    assert first.status_code == 201, first.text
    job = first.json()["jobs"][0]
    assert job["state"] == "queued" and job["name"] == "first.mp4" and "input_path" not in job
    assert analysis.started.wait(10)
    running = wait_for(client, job["id"], ("running",))
    end = time.monotonic() + 10  # the job turns 'running' just before its first progress report is stored
    while running["progress"] != 0.5 and time.monotonic() < end:
        time.sleep(0.05)
        running = client.get(f"/api/jobs/{job['id']}").json()
    assert running["progress"] == 0.5
    bad = upload(client, "second.mp4", FAKE_MP4 + b"FAIL").json()["jobs"][0]
    third = upload(client, "third.mp4", FAKE_MP4).json()["jobs"][0]
    assert client.get(f"/api/jobs/{bad['id']}").json()["state"] == "queued"  # one worker: it waits its turn
    t0 = time.perf_counter()
    health = client.get("/api/health").json()
    assert time.perf_counter() - t0 < 1.0
    assert health["running"] == 1 and health["queued"] == 2 and health["worker_alive"]
    analysis.release.set()
    done = wait_for(client, job["id"], ("done", "failed"))
    assert done["state"] == "done" and done["progress"] == 1.0 and done["summary"] == {"frames": 2}
    assert done["artefacts"] == ["features.csv", "features.parquet"]
    failed = wait_for(client, bad["id"], ("done", "failed"))
    assert failed["state"] == "failed"
    assert "not a readable video" in failed["error"] and "\n" not in failed["error"]
    assert wait_for(client, third["id"], ("done", "failed"))["state"] == "done"  # the failure stopped nothing
    listed = [j["id"] for j in client.get("/api/jobs").json()["jobs"]]
    assert listed == [third["id"], bad["id"], job["id"]]
    frames = client.get(f"/api/jobs/{job['id']}/frames").json()
    assert frames["columns"] == ["frame_index", "time_s", "f1", "qc"] and len(frames["data"]) == 2
    assert client.get(f"/api/jobs/{bad['id']}/frames").status_code == 409
    stored = sorted(p.name for p in (data / "uploads").iterdir())
    assert stored == sorted(f"{j['id']}.mp4" for j in (job, bad, third))  # generated names, sniffed suffix


def test_jobs_survive_a_restart(tmp_path, tiny_model):
    analysis = GatedAnalysis()
    analysis.release.set()
    with TestClient(create_app(tmp_path, tiny_model, analyse=analysis)) as client:
        job = upload(client, "a.mp4", FAKE_MP4).json()["jobs"][0]
        wait_for(client, job["id"], ("done",))
    with TestClient(create_app(tmp_path, tiny_model, analyse=analysis)) as client:
        again = client.get(f"/api/jobs/{job['id']}").json()
        assert again["state"] == "done" and again["artefacts"] == ["features.csv", "features.parquet"]
        assert client.get(f"/api/jobs/{job['id']}/files/features.csv").text.startswith("frame_index,time_s,f1,qc")


@pytest.mark.parametrize("head, suffix, kind", [
    (MP4_HEAD, ".mp4", "video"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", ".mov", "video"),
    (bytes.fromhex("3026B2758E66CF11A6D900AA0062CE6C"), ".wmv", "video"),
    (b"RIFF\x10\x00\x00\x00AVI LIST", ".avi", "video"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".png", "image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ".jpg", "image"),
    (b"II*\x00\x08\x00\x00\x00", ".tif", "image"),
])
def test_accepted_types_are_stored_under_the_sniffed_suffix(gated, head, suffix, kind):
    client, _, data = gated
    # the name says nothing true: content decides
    job = upload(client, "clip.bin", head + b"\x00" * 64).json()["jobs"][0]
    assert job["kind"] == kind
    assert (data / "uploads" / f"{job['id']}{suffix}").is_file()


def test_rejections(gated):
    client, _, data = gated
    big = upload(client, "big.mp4", MP4_HEAD + b"\x00" * 5000)
    assert big.status_code == 413 and "limit of 4096 bytes" in big.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while reading the stream
        yield b"--XyZ\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.mp4\"\r\n\r\n" + MP4_HEAD
        for _ in range(10):
            yield b"\x00" * 1000
        yield b"\r\n--XyZ--\r\n"
    streamed = client.post("/api/jobs", content=chunks(), headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert streamed.status_code == 413

    wrong = upload(client, "video.mp4", b"MZ\x90\x00 this is a program, not a video" + b"\x00" * 64)
    assert wrong.status_code == 415 and "checked by content" in wrong.json()["detail"]
    text = upload(client, "notes.mp4", b"just some text that is long enough to sniff")
    assert text.status_code == 415
    for name in ("../../etc/passwd", "..\\..\\boot.ini", "/etc/passwd", "..", "C:evil.mp4"):
        r = upload(client, name, FAKE_MP4)
        assert r.status_code == 400, name
        assert "contains a path" in r.json()["detail"]
    assert client.post("/api/jobs", files={"note": (None, "no file")}).status_code == 400
    assert client.post("/api/jobs", data={"note": "no file"}).status_code == 415
    assert client.post("/api/jobs", content=FAKE_MP4, headers={"content-type": "video/mp4"}).status_code == 415
    assert list((data / "uploads").iterdir()) == []  # nothing rejected was stored
    assert client.get("/api/jobs").json()["jobs"] == []

    for bad_id in ("0" * 32, "nope", "..%2F..%2Fetc%2Fpasswd", "%2e%2e"):
        r = client.get(f"/api/jobs/{bad_id}")
        assert r.status_code == 404, bad_id
        assert client.get(f"/api/jobs/{bad_id}/files/features.csv").status_code == 404


def test_several_files_in_one_request(gated):
    client, _, data = gated
    two = client.post("/api/jobs", files=[("files", ("a.mp4", FAKE_MP4, "video/mp4")),
                                          ("files", ("b.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png"))])
    assert two.status_code == 201 and [j["kind"] for j in two.json()["jobs"]] == ["video", "image"]
    mixed = client.post("/api/jobs", files=[("files", ("c.mp4", FAKE_MP4, "video/mp4")),
                                            ("files", ("d.mp4", b"not a video at all, just text", "video/mp4"))])
    assert mixed.status_code == 415 and "'d.mp4'" in mixed.json()["detail"]
    assert len(list((data / "uploads").iterdir())) == 2  # all or nothing: c.mp4 was not stored either


def test_cross_site_writes_and_foreign_hosts_are_refused(gated, tmp_path, tiny_model):
    client, _, data = gated
    evil = {"origin": "http://evil.example"}
    r = client.post("/api/jobs", files=[("files", ("a.mp4", FAKE_MP4, "video/mp4"))], headers=evil)
    assert r.status_code == 403 and "cross-site" in r.json()["detail"]
    assert client.post("/api/inbox/jobs", json={"names": ["a.mp4"]}, headers=evil).status_code == 403
    same = client.post("/api/jobs", files=[("files", ("a.mp4", FAKE_MP4, "video/mp4"))],
                       headers={"origin": "http://testserver"})
    assert same.status_code == 201
    app = create_app(tmp_path / "other", tiny_model, analyse=GatedAnalysis(), allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert local.get("/api/health").status_code == 200
        assert local.get("/api/health", headers={"host": "attacker.example:8000"}).status_code == 400


def test_downloads_only_whitelisted_artefacts(gated):
    client, analysis, data = gated
    analysis.release.set()
    job = upload(client, "a.mp4", FAKE_MP4).json()["jobs"][0]
    wait_for(client, job["id"], ("done",))
    (data / "jobs" / job["id"] / "secret.txt").write_text("not for download")
    ok = client.get(f"/api/jobs/{job['id']}/files/features.csv")
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/csv")
    assert 'filename="a_features.csv"' in ok.headers["content-disposition"]
    empty = client.get(f"/api/jobs/{job['id']}/injection").json()  # an analysis that read no injection
    assert empty == {"columns": ["frame", "time_s", "funnel_depth_px", "penetration_px"], "data": [], "events": [],
                     "summary": {}}
    for name in ("secret.txt", "..%2F..%2Fetc%2Fpasswd", "..%2Fuploads", "jobs.sqlite", "report.html", "masks.zip",
                 "events.csv"):
        r = client.get(f"/api/jobs/{job['id']}/files/{name}")
        assert r.status_code == 404, name
        assert "not for download" not in r.text and "root:" not in r.text


def test_inbox_lists_and_queues_only_plain_known_files(gated, tmp_path):
    client, analysis, data = gated
    analysis.release.set()
    inbox = data / "inbox"
    (inbox / "clip.mp4").write_bytes(FAKE_MP4)
    (inbox / "fake.mp4").write_bytes(b"plain text pretending to be a video")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "deep.mp4").write_bytes(FAKE_MP4)
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(FAKE_MP4)
    (inbox / "link.mp4").symlink_to(outside)
    files = client.get("/api/inbox").json()["files"]
    assert [f["name"] for f in files] == ["clip.mp4"] and files[0]["kind"] == "video"
    for names, status in ((["../../etc/passwd"], 400), (["sub/deep.mp4"], 400), (["fake.mp4"], 404),
                          (["link.mp4"], 404), (["missing.mp4"], 404), ([], 400), ("clip.mp4", 400)):
        assert client.post("/api/inbox/jobs", json={"names": names}).status_code == status, names
    job = client.post("/api/inbox/jobs", json={"names": ["clip.mp4"]}).json()["jobs"][0]
    assert wait_for(client, job["id"], ("done", "failed"))["state"] == "done"
    assert (inbox / "clip.mp4").read_bytes() == FAKE_MP4  # inputs are never modified


def test_real_analysis_end_to_end(tmp_path, tiny_model, phantom_video, phantom_dir):
    """The real engine on a phantom video: artefacts download, a corrupt video fails alone, health stays fast."""
    with TestClient(create_app(tmp_path, tiny_model, max_upload_bytes=10 * 1024**2)) as client:
        corrupt = upload(client, "broken.mp4", MP4_HEAD + b"\x13" * 4000).json()["jobs"][0]
        still = next((phantom_dir / "icsi" / "case01").rglob("*.png"))
        image = upload(client, "still.png", still.read_bytes()).json()["jobs"][0]
        good = upload(client, "case01.mp4", phantom_video.read_bytes()).json()["jobs"][0]
        latencies = []
        while client.get(f"/api/jobs/{good['id']}").json()["state"] in ("queued", "running"):
            t0 = time.perf_counter()
            assert client.get("/api/health").status_code == 200
            latencies.append(time.perf_counter() - t0)
            time.sleep(0.1)
        assert max(latencies) < 2.0, latencies
        failed = client.get(f"/api/jobs/{corrupt['id']}").json()
        assert failed["state"] == "failed" and failed["error"].startswith("broken.mp4: ")  # the name, not a server path
        assert "Fix:" in failed["error"]
        still_job = client.get(f"/api/jobs/{image['id']}").json()  # an image: a one-frame analysis
        assert still_job["kind"] == "image" and still_job["state"] == "done", still_job["error"]
        assert len(client.get(f"/api/jobs/{image['id']}/frames").json()["data"]) == 1
        job = client.get(f"/api/jobs/{good['id']}").json()
        assert job["state"] == "done", job["error"]
        assert set(job["artefacts"]) == {"features.csv", "features.parquet", "overlay.mp4", "masks.zip",
                                         "labelme.zip", "summary.json", "report.html",
                                         "injection.csv", "events.csv", "injection.json"}  # issue #17
        inj = client.get(f"/api/jobs/{good['id']}/injection").json()
        assert inj["columns"] == ["frame", "time_s", "funnel_depth_px", "penetration_px"] and len(inj["data"]) == 8
        assert isinstance(inj["events"], list) and "mode" in inj["summary"]
        assert client.get(f"/api/jobs/{good['id']}/files/events.csv").headers["content-type"].startswith("text/csv")
        assert job["summary"]["width"] == 640 and job["summary"]["height"] == 480
        frames = client.get(f"/api/jobs/{good['id']}/frames").json()
        assert len(frames["data"]) == 8 and {"f1", "f2", "f3", "f4", "tip_x", "tip_y", "time_s"} <= set(frames["columns"])
        base = f"/api/jobs/{good['id']}/files"
        video = client.get(f"{base}/overlay.mp4")
        assert video.content[4:8] == b"ftyp" and video.headers["content-type"] == "video/mp4"
        part = client.get(f"{base}/overlay.mp4", headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and len(part.content) == 100  # seeking in the page needs ranges
        report = client.get(f"{base}/report.html")
        assert report.headers["content-type"].startswith("text/html") and "case01" in report.text
        csv_path = tmp_path / "f.csv"
        csv_path.write_bytes(client.get(f"{base}/features.csv").content)
        assert len(pd.read_csv(csv_path)) == 8
        import io
        import zipfile
        masks = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/masks.zip").content)).namelist()
        labelme = zipfile.ZipFile(io.BytesIO(client.get(f"{base}/labelme.zip").content)).namelist()
        assert len([n for n in masks if n.endswith(".png")]) == 8
        assert len([n for n in labelme if n.endswith(".json")]) == 1  # LabelMe files at 1 frame per second
        assert masks[0] == "case01_f00000_t0000.000.png"  # named after the upload, not the stored id
