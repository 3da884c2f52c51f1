"""`oocyteseg report` reads analyze's OUT/<case>/<video>/ folders: one case with two videos, older runs."""

from __future__ import annotations

import shutil

import pytest

from oocyteseg.cli.main import main
from oocyteseg.reports.html_report import build_report, load_cases
from tests.inference.conftest import make_checkpoint, make_tiny_phantom


@pytest.fixture(scope="module")
def two_videos_one_case(tmp_path_factory):
    """(run, phantom): VIDEOS/case01/{case01,second}.mp4 and VIDEOS/case02/case02.mp4, analysed."""
    root = tmp_path_factory.mktemp("report_cases")
    phantom = make_tiny_phantom(root / "phantom")
    videos = root / "videos"
    shutil.copytree(phantom / "icsi", videos, ignore=shutil.ignore_patterns("*.npz", "*.png", "*.json"))
    shutil.copyfile(videos / "case01" / "case01.mp4", videos / "case01" / "second.mp4")
    ckpt = make_checkpoint(root / "model.pt")
    run = root / "run"
    assert main(["analyze", str(videos), "--model", str(ckpt), "--out", str(run), "--fps", "4", "--threads", "1"]) == 0
    return run, phantom


def test_report_keeps_videos_of_one_case_apart(two_videos_one_case, tmp_path):
    run, phantom = two_videos_one_case
    cases = load_cases(run)
    assert [(c.name, c.case, c.folder.relative_to(run).as_posix()) for c in cases] == [
        ("case01/case01", "case01", "case01/case01"), ("case01/second", "case01", "case01/second"),
        ("case02", "case02", "case02/case02")]
    out = build_report(run, tmp_path / "report.html", truth=phantom / "icsi", max_thumbnails=1)
    html = out.read_text(encoding="utf-8")
    for name in ("case01/case01", "case01/second", "case02"):
        assert f"<h2>{name}</h2>" in html, name
    # ground truth by case id (<case>_masks.npz) for both videos of case01, joined per video
    assert "IoU (Table 2 form)" in html and "relative error [%] (Table 3 form)" in html
    assert html.count("case01_masks.npz") == 2


def test_report_reads_runs_made_before_case_folders(two_videos_one_case, tmp_path):
    run, _ = two_videos_one_case
    old = tmp_path / "old_run"
    shutil.copytree(run / "case02" / "case02", old / "case02")  # OUT/<stem>/, the earlier layout
    assert [c.name for c in load_cases(old)] == ["case02"]
    assert "<h2>case02</h2>" in build_report(old, max_thumbnails=0).read_text(encoding="utf-8")
