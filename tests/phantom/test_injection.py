"""Breakage modes in the phantom (issue #17): default cases unchanged, ground truth that round-trips."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from oocyteseg.classes import ICSI_INJECTION
from oocyteseg.injection_modes import MODES
from oocyteseg.phantom.dataset import PhantomConfig, case_seed, make_phantom_dataset
from oocyteseg.phantom.geometry import frame_geometry
from oocyteseg.phantom.params import SercParams, sample_case
from oocyteseg.phantom.render import anatomy_mask, render_frame
from oocyteseg.phantom.truth import injection_truth

# sha256 (first 16 hex digits) of image + mask + anatomy mask bytes, rendered by main's code before issue #17
# (commit 85eec80) for sample_case(case_seed(0, ci), f"case{ci + 1:02d}", 160, 214) at (frame_index, u), 4 s.
DEFAULT_HASHES = {(0, 0, 0.0): "4d40c95b6fdc5fcd", (0, 13, 0.55): "2604bd4c9cf4a90c",
                  (0, 23, 1.0): "c0046cb0d83e10fe", (1, 7, 0.3): "dad58f0cc861a297"}
# the same for the stills of PhantomConfig(cases=2, seed=3, seconds=1.0, fps=4, height=120, width=160,
# inclusion_images=0, video_formats=()): every manifest row's image then mask pixels, in manifest order
DEFAULT_DATASET_HASH = "f829218ac601fab2"

SEED, FPS, SECONDS = 4, 8.0, 8.0


@pytest.mark.parametrize("key", list(DEFAULT_HASHES))
def test_default_cases_render_exactly_as_before(key):
    ci, i, u = key
    case = sample_case(case_seed(0, ci), f"case{ci + 1:02d}", 160, 214)
    img, mask = render_frame(case, u, duration_s=4.0, frame_index=i)
    an = anatomy_mask(case, u, duration_s=4.0, frame_index=i)
    assert hashlib.sha256(img.tobytes() + mask.tobytes() + an.tobytes()).hexdigest()[:16] == DEFAULT_HASHES[key]


def test_default_dataset_stills_are_unchanged(tmp_path):
    from oocyteseg.io.images import read_image, read_mask
    cfg = PhantomConfig(cases=2, seed=3, seconds=1.0, fps=4, height=120, width=160, inclusion_images=0,
                        video_formats=())
    manifest = make_phantom_dataset(tmp_path, cfg)
    h = hashlib.sha256()
    for _, row in pd.read_csv(manifest).iterrows():
        h.update(read_image(tmp_path / row["image"]).tobytes())
        h.update(read_mask(tmp_path / row["mask"]).tobytes())
    assert h.hexdigest()[:16] == DEFAULT_DATASET_HASH
    doc = json.loads((tmp_path / "phantom.json").read_text())
    assert doc["config"]["responses"] == [] and doc["classes"] == ["background", "oocyte", "sERC", "needle"]
    assert PhantomConfig().seconds == 4.0 and PhantomConfig(responses=("pressure",)).seconds == 8.0
    assert [c["mode"] for c in doc["cases"]] == [None, None] and not list(tmp_path.rglob("*_injection.*"))


def test_a_mode_changes_only_the_needle_path_and_the_polar_body():
    plain, moded = sample_case(21, "a"), sample_case(21, "a", response="shallow")
    assert moded.response.mode == "shallow" and plain.response is None
    assert (moded.serc, moded.needle, moded.optics, moded.pipette) == (plain.serc, plain.needle, plain.optics,
                                                                        plain.pipette)
    assert replace(moded.oocyte, polar_body=None) == replace(plain.oocyte, polar_body=None)
    with pytest.raises(ValueError, match="valid: pressure, shallow"):
        sample_case(21, "a", response="gentle")


@pytest.fixture(scope="module")
def injection_set(tmp_path_factory):
    """One case per mode, 8 s at 8 fps, 120x160."""
    out = tmp_path_factory.mktemp("injection")
    cfg = PhantomConfig(cases=4, seed=SEED, fps=FPS, height=120, width=160, inclusion_images=0,
                        video_formats=("mp4",), anatomy=False, responses=MODES)
    make_phantom_dataset(out, cfg)
    return out


def _case(root, ci):
    case_id = f"case{ci + 1:02d}"
    frames = pd.read_csv(root / f"icsi/{case_id}/{case_id}_injection.csv")
    truth = json.loads((root / f"icsi/{case_id}/{case_id}_injection.json").read_text())
    params = sample_case(case_seed(SEED, ci), case_id, 120, 160, response=MODES[ci])
    return params, frames, truth


@pytest.mark.parametrize("ci", range(4))
def test_ground_truth_round_trips_and_agrees_with_itself(injection_set, ci):
    params, frames, truth = _case(injection_set, ci)
    doc = json.loads((injection_set / "phantom.json").read_text())
    assert doc["cases"][ci]["mode"] == truth["mode"] == MODES[ci] and doc["config"]["seconds"] == SECONDS
    assert doc["classes"] == list(ICSI_INJECTION.classes)
    want_frames, want = injection_truth(params, len(frames), FPS, SECONDS)
    assert truth == json.loads(json.dumps(want))
    pd.testing.assert_frame_equal(frames, want_frames, check_dtype=False)
    ev, broken = truth["events"], frames.broken.to_numpy()
    assert ev["breakage"] == int(np.argmax(broken)) == ev["breakage_attempts"][-1] and not broken[:ev["breakage"]].any()
    assert len(ev["breakage_attempts"]) == truth["attempts"]
    assert ev["contact"] <= ev["max_funnel"] <= ev["breakage"] < ev["injection"]
    assert ev["injection"] == int(frames.penetration_px.idxmax())
    if ev["withdrawal"] is not None:
        assert frames.penetration_px[ev["withdrawal"]] < 0 <= frames.penetration_px[ev["withdrawal"] - 1]
    assert (frames.funnel_depth_px >= 0).all() and set(frames.phase) <= {"approach", "indent", "inside", "withdrawn"}
    assert list(frames.phase[[0, ev["breakage"]]]) == ["approach", "inside"]
    assert frames.funnel_depth_px[ev["contact"] - 1] <= 0.5 and frames.penetration_px[0] < 0


def test_each_mode_behaves_as_named(injection_set):
    (p_params, pressure, _), (_, shallow, s_truth), (_, no_res, n_truth), (_, rep, r_truth) = (
        _case(injection_set, ci) for ci in range(4))
    b = _case(injection_set, 0)[2]["events"]["breakage"]
    radius = p_params.oocyte.radius
    f = pressure.funnel_depth_px
    assert f[b - 1] >= 0.24 * radius and f[b] < 0.8 * f[b - 1]  # a deep funnel that relaxes suddenly
    assert s_truth["funnel_depth_at_breakage_px"] < 0.16 * radius
    assert no_res.funnel_depth_px.max() < 3 and n_truth["funnel_depth_at_breakage_px"] < 3
    assert r_truth["attempts"] >= 2
    for a in r_truth["events"]["breakage_attempts"][:-1]:  # failed attempts: the funnel relaxes, not broken
        assert rep.funnel_depth_px[a] < rep.funnel_depth_px[a - 1] and not rep.broken[a]
        assert rep.penetration_px[a] < rep.penetration_px[a - 1]  # because the needle is pulled back


@pytest.mark.parametrize("ci", range(4))
def test_polar_body_angle_matches_the_masks(injection_set, ci):
    params, frames, truth = _case(injection_set, ci)
    masks = np.load(injection_set / f"icsi/case{ci + 1:02d}/case{ci + 1:02d}_masks.npz")
    assert list(masks["classes"]) == list(ICSI_INJECTION.classes)
    pb = ICSI_INJECTION.role("polar_body")
    for i in (0, len(frames) // 2, len(frames) - 1):
        g = frame_geometry(params, i / (len(frames) - 1), duration_s=SECONDS, frame_index=i)
        ys, xs = np.nonzero(masks["masks"][i] == pb)
        seen = math.degrees(math.atan2(-(ys.mean() - g.cy), xs.mean() - g.cx)) - truth["entry_angle_deg"]
        assert abs(math.remainder(seen - truth["polar_body_angle_deg"], 360)) < 3
    angle, clock = truth["polar_body_angle_deg"], truth["polar_body_clock"]
    assert abs(angle) >= 30 and 0 < clock <= 12 and abs((3 - angle / 30) % 12 - clock % 12) < 1e-3


def test_serc_and_ooplasm_move_with_the_dent():
    case = sample_case(8, "s", 240, 320, response="pressure")
    o, r = case.oocyte, case.response
    theta = math.atan2(-math.sin(case.needle.angle), -math.cos(case.needle.angle))  # towards the needle
    near = 0.6 * o.radius
    case = replace(case, serc=SercParams(dx=near * math.cos(theta), dy=near * math.sin(theta), rx=0.15 * o.radius,
                                         ry=0.13 * o.radius, angle=0.0, brightness=0.08, smoothness=0.9))
    n = 96
    before, peak = 2, int(r.u_break * (n - 1))

    def serc_centre(i):
        _, mask = render_frame(case, i / (n - 1), duration_s=8.0, frame_index=i, noise=False)
        g = frame_geometry(case, i / (n - 1), duration_s=8.0, frame_index=i)
        ys, xs = np.nonzero(mask == 2)
        return np.array([xs.mean() - g.cx, ys.mean() - g.cy]), g

    c0, g0 = serc_centre(before)
    c1, g1 = serc_centre(peak)
    assert g0.src is not None and np.abs(g0.src[0] - g0.rx).max() < 1e-3  # no dent yet: nothing moved
    pushed = -(c1 - c0) @ np.array([math.cos(theta), math.sin(theta)])  # inwards, away from the needle
    assert pushed > 1.0
    shift = np.hypot(g1.src[0] - g1.rx, g1.src[1] - g1.ry)
    far = (g1.rx * math.cos(theta) + g1.ry * math.sin(theta)) < 0  # the half away from the needle
    assert shift.max() > 0.5 * g1.state.indentation and shift[far].max() < 0.02 * shift.max()
    u = (r.u_break + r.keys[-3][0]) / 2  # after the breakage, on the way to the deepest point
    g2 = frame_geometry(case, u, duration_s=8.0, frame_index=0)
    tip = np.array(g2.tip)
    on_path = tip - 0.5 * g2.state.depth * np.array(g2.state.direction)  # halfway along the needle inside
    y, x = int(round(on_path[1])), int(round(on_path[0]))
    moved = np.array([g2.rx[y, x] - g2.src[0][y, x], g2.ry[y, x] - g2.src[1][y, x]])
    assert g2.state.broken and moved @ np.array(g2.state.direction) > 1.0  # dragged along by the needle


def test_cli_responses_option(tmp_path, capsys):
    from oocyteseg.cli.main import main
    base = ["phantom", "--cases", "1", "--fps", "2", "--height", "64", "--width", "96", "--inclusion-images", "0",
            "--formats", "", "--no-anatomy"]
    assert main(base + ["--out", str(tmp_path / "bad"), "--responses", "pressure,gentle"]) == 2
    err = capsys.readouterr().err
    assert "gentle" in err and "no_resistance" in err and len(err.strip().splitlines()) == 1
    assert main(base + ["--out", str(tmp_path / "ok"), "--responses", "all"]) == 0
    doc = json.loads((tmp_path / "ok/phantom.json").read_text())
    assert doc["config"]["responses"] == list(MODES) and doc["config"]["seconds"] == 8.0
    assert doc["cases"][0]["mode"] == "pressure"
    truth = json.loads((tmp_path / "ok/icsi/case01/case01_injection.json").read_text())
    assert truth["mode"] == "pressure" and truth["fps"] == 2.0
    assert set(pd.read_csv(tmp_path / "ok/manifest.csv").labelset) == {"icsi-injection"}


def test_icsi_injection_label_set_and_classes_file():
    from pathlib import Path

    from oocyteseg.io.classes_file import BUILTIN, as_classes, load_classes
    path = Path(__file__).parents[2] / "configs/classes-icsi-injection.yaml"
    assert load_classes(path) == BUILTIN["icsi-injection"] == as_classes(ICSI_INJECTION)
    assert ICSI_INJECTION.roles == {"oocyte": 1, "serc": 2, "needle": 3, "polar_body": 4}
    assert BUILTIN["icsi-injection"].draw_indices() == [0, 1, 4, 2, 3]
