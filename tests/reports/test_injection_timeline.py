"""The report's Injection section (issue #17): summary in clinical wording, timeline figure, key frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oocyteseg.io.video import VideoWriter
from oocyteseg.reports import figures
from oocyteseg.reports.injection_timeline import PHANTOM_NOTE, injection_section, summary_rows

SUMMARY = {"mode": "pressure", "mode_text": "x", "attempts": 1, "funnel_depth_at_breakage_px": 14.0,
           "funnel_depth_at_breakage_um": 7.0, "contact_to_breakage_s": 0.5, "max_funnel_depth_px": 14.5,
           "recovery_fraction": 0.9, "recovery_time_s": 0.3, "polar_body_angle_deg": 90.0, "polar_body_clock": 12.0,
           "qc": ""}


def _video_folder(tmp_path, frames: int = 12):
    folder = tmp_path / "case01" / "case01"
    folder.mkdir(parents=True)
    with VideoWriter(folder / "overlay.mp4", fps=8) as w:
        for k in range(frames):
            w.write(np.full((48, 64, 3), 20 * k, np.uint8))
    t = np.arange(frames) / 8
    depth = np.r_[np.zeros(2), np.linspace(0, 14, 4), np.zeros(frames - 6)]
    pd.DataFrame({"frame": range(frames), "time_s": t, "funnel_depth_px": depth,
                  "penetration_px": np.linspace(-10, 20, frames)}).to_csv(folder / "injection.csv", index=False)
    pd.DataFrame({"name": ["contact", "max_funnel", "breakage", "withdrawal"], "frame": [2, 5, 6, 11],
                  "time_s": t[[2, 5, 6, 11]], "confidence": [0.9, 0.9, 0.8, 0.7]}).to_csv(folder / "events.csv",
                                                                                          index=False)
    features = pd.DataFrame({"frame_index": range(frames), "time_s": t})
    return folder, features


def test_section_has_summary_figure_events_and_key_frames(tmp_path):
    folder, features = _video_folder(tmp_path)
    html = injection_section("case01", folder, {"video": "", "injection": SUMMARY}, features)
    assert "<h3>Injection</h3>" in html and PHANTOM_NOTE in html
    assert "pressure breakage with a funnel (cone)" in html  # MODE_TEXT, the clinical wording
    assert "14.0 px (7.0 µm)" in html and "12.0 o&#x27;clock" in html
    assert html.count("data:image/png;base64,") == 1  # the timeline
    assert html.count("<figure>") == 4  # contact, max funnel, breakage, withdrawal
    assert "breakage · frame 6 · 0.75 s" in html


def test_section_without_injection_says_why_or_nothing(tmp_path):
    assert injection_section("a", tmp_path, {"injection": {"qc": "no_needle_class"}}, pd.DataFrame()).count(
        "no_needle_class") == 1
    assert injection_section("a", tmp_path, {}, pd.DataFrame()) == ""


def test_timeline_figure_and_summary_rows():
    table = pd.DataFrame({"time_s": [0, 0.1, 0.2], "funnel_depth_px": [0, 3, 0], "penetration_px": [-2, 0, 4]})
    events = pd.DataFrame({"name": ["breakage"], "frame": [2], "time_s": [0.2], "confidence": [1.0]})
    png = figures.injection_timeline(table, events, "t")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    rows = summary_rows({"mode": "unknown", "qc": "no_breakage"})
    assert rows.loc["breakage mode", "value"].endswith("[unknown]") and rows.loc["QC", "value"] == "no_breakage"
