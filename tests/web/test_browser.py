"""End to end in a real headless Chromium: upload, live progress, viewer, click-to-seek, no console errors.

Set OOCYTESEG_WEB_SCREENSHOT=docs/web-screenshot.png to also write the page's screenshot there.
"""

from __future__ import annotations

import io
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import uvicorn
from PIL import Image

from oocyteseg.web.app import create_app

from .cdp import CHROMIUM, Browser

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                                 "(apt-get install -y chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, fitted_model):
    """The app under uvicorn on 127.0.0.1 and a free port, in a background thread; stopped at the end."""
    port = _free_port()
    config = uvicorn.Config(create_app(tmp_path / "data", fitted_model, max_upload_bytes=50 * 1024**2),
                            host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    end = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < end and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(15)


def _get_seconds(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as res:
        assert res.status == 200
    return time.perf_counter() - t0


def test_upload_watch_view_in_chromium(server, tmp_path, phantom_video):
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"this is a text file with a video's name\n" * 4)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x13" * 4000)
    (tmp_path / "chrome").mkdir()
    with Browser(tmp_path / "chrome") as b:
        b.send("Page.navigate", url=server + "/")
        b.wait_for("document.readyState === 'complete' && document.querySelector('#health').textContent.startsWith('model')")
        b.set_files("#file-input", [fake, broken, phantom_video])

        # the page stays responsive while the job runs: the health endpoint answers fast
        latencies = []
        while not b.eval("!!document.querySelector('.job[data-state=done]')"):
            latencies.append(_get_seconds(server + "/api/health"))
            assert len(latencies) < 600, "analysis did not finish"
            time.sleep(0.1)
        assert max(latencies) < 2.0, latencies

        # the rejected upload and the failed job are shown with their one-line reasons
        b.wait_for("!!document.querySelector('#upload-messages li.error')")
        assert "checked by content" in b.eval("document.querySelector('#upload-messages li.error').textContent")
        failed = b.eval("document.querySelector('.job[data-state=failed] .job-error').textContent")
        assert failed.startswith("broken.mp4: not a readable video") and "Fix:" in failed

        # the viewer: table, five time plots, the trajectory, downloads, a playable overlay video
        b.wait_for("document.querySelectorAll('#frame-table tbody tr').length === 8")
        assert b.eval("document.querySelectorAll('#plots svg').length") == 6  # + the injection curve (#17)
        assert b.eval("document.querySelectorAll('#trajectory svg circle.point').length") > 0
        assert b.eval("document.querySelectorAll('#plots svg circle.point').length") > 0
        downloads = b.eval("[...document.querySelectorAll('#downloads a')].map(a => a.textContent)")
        assert {"features.csv", "features.parquet", "masks.zip", "labelme.zip", "overlay.mp4", "report.html",
                "summary.json", "injection.csv", "events.csv", "injection.json"} == set(downloads)
        b.wait_for("document.querySelector('#overlay-video').readyState >= 2")
        assert b.eval("document.querySelector('#overlay-video').error") is None

        # QC-flagged frames are marked in the table and on the curves, as the API says
        job_id = b.eval("document.querySelector('.job[data-state=done]').dataset.id")
        with urllib.request.urlopen(f"{server}/api/jobs/{job_id}/frames") as res:
            import json
            frames = json.load(res)
        flagged = [i for i, row in enumerate(frames["data"]) if row[frames["columns"].index("qc_flagged")]]
        with urllib.request.urlopen(f"{server}/api/jobs/{job_id}/injection") as res:
            detected = json.load(res)["events"]  # the engine's events: each one a marker on the injection curve
        assert b.eval("[...document.querySelectorAll('#plots svg g.event')].map(g => g.dataset.name)") == [
            e["name"] for e in detected]
        assert b.eval("[...document.querySelectorAll('#frame-table tbody tr')].flatMap((r, i) => "
                      "r.classList.contains('qc') ? [i] : [])") == flagged

        # selecting the failed job says why; selecting the finished one brings its results back
        b.eval("document.querySelector('.job[data-state=failed]').click()")
        b.wait_for("!document.querySelector('#placeholder').hidden && "
                   "document.querySelector('#placeholder').textContent.includes('not a readable video')")
        events = tmp_path / "data" / "jobs" / job_id / "events.csv"  # known events, so markers surely exist
        events.unlink()
        events.write_text("name,frame,time_s,confidence\ncontact,2,0.25,0.9\nbreakage,6,0.75,0.8\n")
        b.eval("document.querySelector('.job[data-state=done]').click()")
        b.wait_for("!document.querySelector('#viewer').hidden && "
                   "document.querySelectorAll('#frame-table tbody tr').length === 8")
        b.wait_for("document.querySelector('#overlay-video').readyState >= 2")

        # click a point on the f3 curve: the video jumps to that frame and the table follows
        target = 5
        rect = b.eval(f"(() => {{ const c = document.querySelectorAll('#plots svg')[2]"
                      f".querySelector('circle.point[data-index=\"{target}\"]') || "
                      f"document.querySelectorAll('#plots svg')[2]; c.scrollIntoView({{block: 'center'}});"
                      f"const r = c.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()")
        b.click(*rect)
        time_s = frames["data"][target][frames["columns"].index("time_s")]
        b.wait_for(f"Math.abs(document.querySelector('#overlay-video').currentTime - {time_s}) < 0.1")
        b.wait_for(f"document.querySelectorAll('#frame-table tbody tr')[{target}].classList.contains('current')")
        # the injection curve marks the events; clicking the breakage marker jumps to its frame (#17)
        b.wait_for("document.querySelectorAll('#plots svg g.event').length === 2")
        assert b.eval("[...document.querySelectorAll('#plots svg g.event')].map(g => g.dataset.name)") == [
            "contact", "breakage"]
        rect = b.eval("(() => { const g = document.querySelector('#plots svg g.event[data-name=breakage] rect');"
                      "g.scrollIntoView({block: 'center'}); const r = g.getBoundingClientRect();"
                      "return [r.x + r.width / 2, r.y + r.height * 0.75]; })()")
        b.click(*rect)
        time_s = frames["data"][6][frames["columns"].index("time_s")]
        b.wait_for(f"Math.abs(document.querySelector('#overlay-video').currentTime - {time_s}) < 0.1")
        b.wait_for("document.querySelectorAll('#frame-table tbody tr')[6].classList.contains('current')")
        b.eval("window.scrollTo(0, 0)")

        errors = b.errors()
        expected = [e for e in errors if "415" in e and "/api/jobs" in e]  # the rejected fake.mp4 upload
        assert errors == expected and len(expected) <= 1, errors

        png = b.screenshot()
    shot = Image.open(io.BytesIO(png))
    assert shot.size == (1280, 900)
    target_path = os.environ.get("OOCYTESEG_WEB_SCREENSHOT")
    if target_path:  # a small palette PNG for the README
        shot.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(Path(target_path), optimize=True)
