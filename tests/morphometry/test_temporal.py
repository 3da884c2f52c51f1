import numpy as np
import pandas as pd
import pytest

from oocyteseg.morphometry.temporal import flag_jumps, hampel, smooth_trajectory, tip_speed


def test_hampel_flags_a_spike_only():
    x = np.array([10.0, 10.2, 9.9, 10.1, 30.0, 10.0, 9.8, 10.1, 10.0])
    clean, jump = hampel(x, window=7, floor=1.0)
    assert list(np.flatnonzero(jump)) == [4]
    assert clean[4] == pytest.approx(10.0, abs=0.2)


def test_hampel_floor_keeps_still_sequence_unflagged():
    x = np.full(20, 5.0)
    x[7] = 5.5  # MAD is 0 here, only the floor stops this from being a "jump"
    assert not hampel(x, floor=1.0)[1].any()
    assert hampel(x, floor=0.0)[1][7]


def test_smooth_trajectory_removes_outlier_and_noise():
    rng = np.random.default_rng(0)
    t = np.arange(40) / 24.0
    truth = np.column_stack([100 + 60 * t, 200 - 20 * t])
    noisy = truth + rng.normal(0, 0.5, truth.shape)
    noisy[15] += [25.0, -30.0]  # a mis-detected tip
    noisy[30] = np.nan  # no tip in one frame
    out = smooth_trajectory(t[::-1], noisy[::-1])  # unsorted input is sorted by time
    assert np.allclose(out["time_s"], t)
    assert list(np.flatnonzero(out["qc_jump"])) == [15]
    err = np.hypot(out["x_smooth"] - truth[:, 0], out["y_smooth"] - truth[:, 1])
    assert np.nanmax(err) < 1.5 and np.isnan(err[30])
    raw_err = np.hypot(*(noisy - truth).T)
    assert np.nanmean(np.delete(err, 15)) < np.nanmean(np.delete(raw_err, 15))


def test_smooth_trajectory_short_and_empty():
    out = smooth_trajectory([0.0, 1.0], [[1.0, 2.0], [1.5, 2.5]])
    assert len(out) == 2 and not out["qc_jump"].any()
    assert len(smooth_trajectory([], np.zeros((0, 2)))) == 0
    with pytest.raises(ValueError):
        smooth_trajectory([0.0], np.zeros((2, 2)))


def test_flag_jumps_per_case_sequence():
    df = pd.DataFrame({"case": ["a"] * 9 + ["b"] * 3, "video": "", "frame_index": list(range(9)) + [0, 1, 2],
                       "f1": 0.8, "f2": 0.1, "f3": [20, 20.5, 21, 21.4, 60, 22.5, 23, 23.4, 24, 0, 1, 2],
                       "f4": 5.0})
    out = flag_jumps(df)
    assert list(out.index[out["qc_jump"]]) == [4]
    assert out.loc[4, "qc"] == "jump:f3"


def test_tip_speed():
    s = tip_speed([0.0, 0.5, 1.0], [[0, 0], [3, 4], [3, 4]])
    assert np.isnan(s[0]) and s[1] == pytest.approx(10.0) and s[2] == 0.0


def test_steady_trend_is_not_a_jump_even_at_the_ends():
    x = 100.0 + 40.0 * np.arange(6)  # fast but steady needle approach
    assert not hampel(x, floor=3.0)[1].any()
    df = pd.DataFrame({"case": "a", "frame_index": range(6), "f1": 0.8, "f2": 0.1, "f3": x, "f4": -x / 2})
    assert not flag_jumps(df)["qc_jump"].any()
