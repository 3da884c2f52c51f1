"""analyze reads the injection (issue #17): injection.csv, events.csv, injection.json, summary keys, inj_ columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from oocyteseg.classes import ICSI, INCLUSIONS
from oocyteseg.cli.main import main
from oocyteseg.inference.injection_outputs import INJECTION_FILES, InjectionReader, reads_injection
from oocyteseg.inference.summary import run_summary_table, summary_markdown

FRAMES = 12  # tiny phantom: 1.5 s at 8 fps


@pytest.fixture(scope="module")
def analysed(tiny_phantom, tiny_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("injection-analysis")
    assert main(["analyze", str(tiny_phantom / "icsi"), "--model", str(tiny_checkpoint), "--out", str(out),
                 "--threads", "1", "--no-overlay"]) == 0
    return out


def test_injection_files_follow_the_frames(analysed):
    case = analysed / "case01" / "case01"
    for name in INJECTION_FILES:
        assert (case / name).is_file(), name
    table = pd.read_csv(case / "injection.csv")
    features = pd.read_csv(case / "features.csv")
    assert len(table) == FRAMES and table["frame"].tolist() == features["frame_index"].tolist()
    assert np.allclose(table["time_s"], features["time_s"], atol=1e-5)
    for col in ("needle_present", "tip_x", "funnel_depth_px", "penetration_px", "deformation_px", "injection_qc"):
        assert col in table.columns, col
    events = pd.read_csv(case / "events.csv")
    assert {"name", "frame", "time_s", "confidence"} <= set(events.columns)
    doc = json.loads((case / "injection.json").read_text())
    summary = json.loads((case / "summary.json").read_text())
    assert summary["injection"]["mode"] == doc["summary"]["mode"]
    assert {"mode", "mode_text", "attempts", "funnel_depth_at_breakage_px", "contact_to_breakage_s",
            "recovery_fraction", "polar_body_angle_deg", "qc"} <= set(summary["injection"])
    assert set(INJECTION_FILES) <= set(summary["outputs"])
    assert "| injection | value |" in (case / "summary.md").read_text()
    run = pd.read_csv(analysed / "summary.csv")
    assert {"inj_mode", "inj_attempts", "inj_funnel_depth_at_breakage_px"} <= set(run.columns)


def test_resume_keeps_and_overwrite_rewrites_the_injection_files(analysed, tiny_phantom, tiny_checkpoint):
    case = analysed / "case01" / "case01"
    before = (case / "injection.json").stat().st_mtime_ns
    args = ["analyze", str(tiny_phantom / "icsi"), "--model", str(tiny_checkpoint), "--out", str(analysed),
            "--threads", "1", "--no-overlay"]
    assert main(args) == 0
    assert (case / "injection.json").stat().st_mtime_ns == before  # done: skipped
    assert main(args + ["--overwrite"]) == 0
    assert (case / "injection.json").stat().st_mtime_ns != before


def test_label_set_without_needle_writes_no_files(tmp_path):
    assert reads_injection(ICSI) and not reads_injection(INCLUSIONS)
    reader = InjectionReader(INCLUSIONS, None, 24.0)
    reader.update(0, 0.0, np.zeros((8, 8), np.uint8))
    assert reader.write(tmp_path) == {"qc": "no_needle_class"}
    assert not any(tmp_path.iterdir())


def test_run_summary_prefixes_injection_keys():
    s = {"case": "a", "qc": {}, "model": {}, "features": {},
         "injection": {"mode": "pressure", "attempts": 1, "funnel_depth_at_breakage_px": 12.5, "qc": ""}}
    row = run_summary_table([("a/a", s)]).iloc[0]
    assert row["inj_mode"] == "pressure" and row["inj_attempts"] == 1 and row["inj_funnel_depth_at_breakage_px"] == 12.5
    md = summary_markdown({**s, "video": "v.mp4", "frames_analysed": 1, "analysed_fps": 24, "video_fps": 24,
                           "duration_s": 1.0, "processing_s": 1.0, "processing_frames_per_s": 1.0,
                           "qc": {"frames_flagged": 0, "frames_with_jump": 0, "reasons": {}, "jumps": {}}})
    assert "| mode | pressure |" in md


def test_a_failing_injection_reading_is_reported_not_fatal(tmp_path, monkeypatch):
    from oocyteseg.morphometry import injection_events

    def broken(*_args, **_kwargs):
        raise ValueError("zero-size array")

    mask = np.zeros((64, 80), np.uint8)
    mask[16:48, 10:50] = 1
    mask[30:34, 45:80] = 3
    reader = InjectionReader(ICSI, None, 24.0)
    for i in range(4):
        reader.update(i, i / 24.0, mask)
    monkeypatch.setattr(injection_events, "detect_events", broken)
    summary = reader.write(tmp_path)
    assert summary["qc"] == "injection_failed: ValueError: zero-size array" and summary["mode"] == "unknown"
    assert all((tmp_path / name).is_file() for name in INJECTION_FILES)

    reader = InjectionReader(ICSI, None, 24.0)
    monkeypatch.setattr(reader.tracker, "update", broken)
    reader.update(7, 0.3, mask)
    reader.update(8, 0.33, mask)  # the reading stopped at the first failure; the video goes on
    assert reader.failed == "injection_failed at frame 7: ValueError: zero-size array"
