"""The report in headless Chromium: the page loads with no console output (errors included), every
embedded image decodes, and a screenshot shows the tables and figures.

Needs Debian's chromium (`make chromium` installs it); without it the test is skipped, saying why.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from oocyteseg.cli.main import main

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (run `make chromium`, i.e. "
                                                         "apt-get install chromium): report browser test not run")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=1", "--hide-scrollbars"]
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? (.*)")


def chromium(page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    return [m.group(1) for line in stderr.splitlines() if (m := CONSOLE.search(line))]


def test_console_detection_works(tmp_path):
    """Positive control: a page with a console error and an exception is caught by the same check."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><script>console.error("boom"); nope();</script></body></html>')
    msgs = console_messages(chromium(bad, tmp_path, "--dump-dom", "--virtual-time-budget=2000").stderr)
    assert any("boom" in m for m in msgs) and any("Uncaught ReferenceError" in m for m in msgs)


def test_report_loads_cleanly_and_renders(analysed_run, tmp_path):
    run, _ = analysed_run
    page = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(page)]) == 0
    dom = chromium(page, tmp_path, "--dump-dom", "--virtual-time-budget=5000")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert console_messages(dom.stderr) == [], "console output while loading the report"
    m = re.search(r'data-images="(\w+) (\d+)/(\d+)"', dom.stdout)
    assert m, "the image check script did not run"
    assert m.group(1) == "ok" and int(m.group(3)) >= 5, m.group(0)
    assert dom.stdout.count("<table") >= 4
    shot = tmp_path / "shot.png"
    res = chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=1280,1800")
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    image = cv2.imread(str(shot))
    assert image.shape[:2] == (1800, 1280)
    # content, not a blank page: many distinct grey levels (text, table rules, plots)
    assert len(np.unique(image[:, :, 1])) > 50 and image.std() > 20
