"""Events and summary from hand-made tables (no pixels), and the evaluation table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from oocyteseg.injection_modes import MODE_TEXT, MODES
from oocyteseg.morphometry.injection_eval import compare_case, summarise
from oocyteseg.morphometry.injection_events import detect_events

FPS = 24.0
R = 130.0


def _relax(depth: float, n: int) -> np.ndarray:
    return depth * (0.12 + 0.88 * np.exp(-np.arange(1, n + 1) / 8.4))


def mode_table(mode: str) -> tuple[pd.DataFrame, dict]:
    """A 96-frame table for `mode` and its truth: {"breakage": frame, "attempts": n, "contact": frame,
    "depth": funnel depth at breakage, "attempt_frames": [...]}."""
    p: list[float] = list(np.linspace(-60, -4, 15))  # approach, 4 px/frame
    f: list[float] = [0.0] * 15
    contact = len(p)
    attempts = []
    if mode == "repeated":  # indent to 30 px, pull back out, indent again and break
        up = list(np.linspace(0, 30, 24))
        p += up
        f += up
        attempts.append(len(p))
        back = list(np.linspace(27, -6, 12))
        p += back
        f += [max(v, 0.0) for v in back]
        up = list(np.linspace(-5, 34, 20))
        p += up
        f += [max(v, 0.0) for v in up]
        depth = 34.0
    elif mode == "no_resistance":
        depth = 0.0
    else:
        depth = 40.0 if mode == "pressure" else 12.0
        up = list(np.linspace(0, depth, 30 if mode == "pressure" else 10))
        p += up
        f += up
    brk = len(p)
    attempts.append(brk)
    if mode == "no_resistance":
        inside = list(np.linspace(0, 50, 20))  # the tip passes straight through
        p += inside
        f += [min(1.5, v) for v in inside]
        brk = contact  # nothing resisted: dated at contact, where the phantom's truth puts it (tip past the oolemma)
        attempts = [brk]
    n_after = 96 - len(p)
    deeper = list(p[-1] + np.minimum(np.arange(1, n_after + 1), 20) * 1.0)
    withdraw = np.linspace(0, deeper[-1] + 10, 16)
    deeper[-16:] = list(np.array(deeper[-16:]) - withdraw)
    p += deeper
    f += list(_relax(max(f[-1], 1.5), n_after)) if mode != "no_resistance" else [1.5 * 0.2] * n_after
    frames = np.arange(96)
    table = pd.DataFrame({"frame": frames, "time_s": frames / FPS, "funnel_depth_px": f, "penetration_px": p,
                          "oolemma_radius_px": R, "polar_body_angle_deg": 100.0, "injection_qc": ""})
    return table, {"breakage": brk, "attempts": len(attempts), "contact": contact, "depth": depth,
                   "attempt_frames": attempts}


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_is_read(mode):
    table, truth = mode_table(mode)
    reading = detect_events(table, FPS)
    s = reading.summary
    assert s["mode"] == mode and s["mode_text"] == MODE_TEXT[mode]
    assert s["attempts"] == truth["attempts"]
    assert reading.event("breakage").frame == truth["breakage"]
    assert reading.event("contact").frame == truth["contact"]
    relax = [e.frame for e in reading.events if e.name in ("attempt", "breakage")]
    assert relax == truth["attempt_frames"]
    if mode != "no_resistance":
        assert abs(s["funnel_depth_at_breakage_px"] - truth["depth"]) <= 1.0
        assert 0.8 <= s["recovery_fraction"] <= 0.95 and s["recovery_time_s"] > 0
    assert reading.event("withdrawal") is not None and reading.event("injection") is not None
    assert s["polar_body_angle_deg"] == pytest.approx(100.0) and s["polar_body_clock"] == pytest.approx(3 - 100 / 30 + 12)
    assert s["qc"] == ""
    frame = reading.events_frame()
    assert list(frame.columns) == ["name", "frame", "time_s", "confidence"]
    assert frame["confidence"].between(0, 1).all() and set(reading.to_dict()) == {"summary", "events"}


@pytest.mark.parametrize("mode", ["pressure", "repeated"])
def test_missed_frames_neither_create_nor_hide_events(mode):
    table, truth = mode_table(mode)
    gappy = table.copy()
    cols = ["funnel_depth_px", "penetration_px"]
    gappy.loc[[truth["breakage"] - 1, truth["breakage"] + 3], cols] = math.nan
    gappy.loc[30, "funnel_depth_px"] = 0.0  # a glitched frame mid-indentation
    reading = detect_events(gappy.drop(index=[60]), FPS)
    assert abs(reading.event("breakage").frame - truth["breakage"]) <= 2
    assert reading.summary["attempts"] == truth["attempts"] and reading.summary["mode"] == mode


def test_no_needle_gives_unknown():
    table, _ = mode_table("pressure")
    table[["funnel_depth_px", "penetration_px"]] = math.nan
    reading = detect_events(table, FPS)
    assert reading.summary["mode"] == "unknown" and reading.summary["qc"] == "no_measurements"


def test_compare_and_summarise():
    rows = []
    for i, mode in enumerate(MODES):
        table, truth = mode_table(mode)
        reading = detect_events(table, FPS)
        truth_json = {"mode": mode, "attempts": truth["attempts"],
                      "events": {"contact": truth["contact"], "breakage": truth["breakage"] + (3 if i == 0 else 0),
                                 "max_funnel": None, "injection": None, "withdrawal": None},
                      "funnel_depth_at_breakage_px": truth["depth"] or 1.5, "polar_body_angle_deg": 110.0}
        truth_frames = table[["frame", "funnel_depth_px"]]
        rows.append({"case": mode, **compare_case(truth_json, truth_frames, reading, table)})
    assert rows[0]["breakage_frame_error"] == -3 and rows[1]["breakage_frame_error"] == 0
    assert rows[1]["funnel_mae_px"] == 0.0 and rows[1]["mode_right"]
    assert rows[1]["polar_body_angle_error_deg"] == pytest.approx(-10.0)
    df = summarise(rows)
    assert list(df["case"]) == [*MODES, "Average", "SD", "Target met"]
    avg = df.set_index("case").loc["Average"]
    assert avg["breakage_ok"] == pytest.approx(0.75) and avg["mode_ok"] == 1.0 and avg["polar_body_ok"] == 1.0
    met = df.set_index("case").loc["Target met"]
    assert not met["breakage_ok"]  # 0.75 < 0.9
    assert bool(met["mode_ok"]) and not np.isnan(df.set_index("case").loc["SD", "breakage_frame_error"])


def test_a_spike_of_two_misread_frames_is_no_funnel():
    table, truth = mode_table("no_resistance")
    spiky = table.copy()
    spiky.loc[[truth["breakage"] + 3, truth["breakage"] + 4], "funnel_depth_px"] = 8.0  # two misread frames
    reading = detect_events(spiky, FPS)
    assert reading.summary["mode"] == "no_resistance" and reading.summary["attempts"] == 1
    assert reading.event("breakage").frame == truth["breakage"]


def test_a_dip_before_the_fall_is_one_relaxation_from_the_later_top():
    table, truth = mode_table("pressure")
    dipped = table.copy()
    k = truth["breakage"] - 1  # the funnel's top
    top = dipped.loc[k, "funnel_depth_px"]
    dipped.loc[k - 3, "funnel_depth_px"] = top * 1.005  # an early top (as read on a phantom case) ...
    dipped.loc[k - 2, "funnel_depth_px"] = top * 0.9  # ... a dip, then the top the funnel falls from
    reading = detect_events(dipped, FPS)
    assert [e.frame for e in reading.events if e.name in ("attempt", "breakage")] == [truth["breakage"]]
    assert reading.summary["mode"] == "pressure"


def test_wobbles_after_breakage_are_not_attempts():
    table, truth = mode_table("pressure")
    wobbly = table.copy()
    after = truth["breakage"] + 15  # the needle is inside: the oolemma wobbles by 15 px and settles
    wobbly.loc[after:after + 9, "funnel_depth_px"] += np.r_[np.linspace(0, 15, 6), np.linspace(12, 0, 4)]
    reading = detect_events(wobbly, FPS)
    assert reading.event("breakage").frame == truth["breakage"]
    assert reading.summary["attempts"] == 1 and reading.summary["mode"] == "pressure"


def test_a_funnel_still_at_its_top_when_the_video_ends():
    table, truth = mode_table("pressure")
    cut = table.iloc[:truth["breakage"]].copy()  # the video ends at the funnel's top
    cut.loc[cut.index[-4], "funnel_depth_px"] = cut["funnel_depth_px"].iloc[-1] * 1.01  # an earlier, higher top
    cut.loc[cut.index[-3], "funnel_depth_px"] = cut["funnel_depth_px"].iloc[-1] * 0.9
    reading = detect_events(cut, FPS)
    assert reading.event("breakage") is None and "no_breakage" in reading.summary["qc"]
