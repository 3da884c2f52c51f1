"""Pixel thresholds follow the frame size: the same scene at 2x resolution gives the same decisions."""

import math

import numpy as np
import pandas as pd
import pytest

from oocyteseg.morphometry.features import frame_features
from oocyteseg.morphometry.needle import needle_tip
from oocyteseg.morphometry.scale import frame_scale, scaled_area, scaled_length
from oocyteseg.morphometry.temporal import flag_jumps, smooth_trajectory

from .shapes_util import icsi_scene


def _up2(mask: np.ndarray) -> np.ndarray:
    return np.repeat(np.repeat(mask, 2, axis=0), 2, axis=1)


def test_frame_scale_reference_and_double():
    assert frame_scale((480, 640)) == 1.0 and frame_scale((960, 1280, 3)) == 2.0
    assert frame_scale((1080, 1920)) == pytest.approx(2.5981, abs=1e-4)
    assert frame_scale((240, 320)) == frame_scale((50, 50)) == 1.0  # digitisation floors never shrink
    assert scaled_length(3.0, (960, 1280)) == 6.0 and scaled_area(20, (960, 1280)) == 80.0


@pytest.mark.parametrize("angle", [0, 30])
def test_scene_upscaled_gives_same_tip_and_reasons(angle):
    mask = icsi_scene(angle_deg=angle)
    a, b = frame_features(mask), frame_features(_up2(mask))
    assert a["reason"] == b["reason"]
    # pixel (i, j) of the small frame covers pixels 2i, 2i + 1 of the big one: x_big = 2 x + 0.5
    assert math.hypot(b["tip_x"] - (2 * a["tip_x"] + 0.5), b["tip_y"] - (2 * a["tip_y"] + 0.5)) <= 1.0


def test_small_serc_and_fragment_decisions_scale():
    mask = icsi_scene(serc=False)
    mask[200:204, 340:344] = 2  # a 16 px sERC: too small for f1 at 480x640, 64 px at 2x is still too small
    yy, xx = np.mgrid[:480, :640]
    mask[(mask == 3) & (xx > 250) & (xx < 280)] = 1  # the needle loses a 30 px piece of shaft (gap < FRAGMENT_GAP)
    a, b = frame_features(mask), frame_features(_up2(mask))
    assert "serc_too_small" in a["reason"] and "needle_fragmented" in a["reason"]
    assert a["reason"] == b["reason"]


def test_tiny_needle_blob_stays_too_small_at_2x():
    needle = np.zeros((480, 640), bool)
    needle[100:104, 0:4] = True  # 16 px < MIN_NEEDLE_PX; 64 px at 2x < 80
    assert needle_tip(needle).reasons == needle_tip(_up2(needle)).reasons == ["needle_too_small"]


def test_jump_floors_scale():
    rng = np.random.default_rng(0)
    tip = np.column_stack([np.full(30, 100.0), np.full(30, 200.0)]) + rng.normal(0, 0.2, (30, 2))
    tip[15, 0] += 2.5  # below the 3 px floor at 480x640; 5 px at 2x is below the scaled floor (6 px) too
    df = pd.DataFrame({"frame_index": range(30), "time_s": np.arange(30) / 24, "tip_x": tip[:, 0], "tip_y": tip[:, 1]})
    big = df.assign(tip_x=2 * df["tip_x"], tip_y=2 * df["tip_y"])
    small_flags = flag_jumps(df, columns=("tip_x", "tip_y"))["qc"].tolist()
    assert flag_jumps(big, columns=("tip_x", "tip_y"), scale=2.0)["qc"].tolist() == small_flags
    assert flag_jumps(big, columns=("tip_x", "tip_y"))["qc"].iloc[15] != small_flags[15]  # unscaled floor: differs
    t = df["time_s"]
    assert (smooth_trajectory(t, 2 * tip, scale=2.0)["qc_jump"] == smooth_trajectory(t, tip)["qc_jump"]).all()
    assert smooth_trajectory(t, 2 * tip)["qc_jump"].iloc[15] and not smooth_trajectory(t, tip)["qc_jump"].iloc[15]
