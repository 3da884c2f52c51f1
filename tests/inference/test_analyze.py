"""`oocyteseg analyze` end to end on tiny phantom videos: outputs, errors, resume, shards, streaming."""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oocyteseg.classes import ICSI
from oocyteseg.cli.main import main
from oocyteseg.inference import AnalyzeConfig, analyze_video, find_videos, parse_shard
from oocyteseg.inference.batch import find_video_files, name_jobs, select_shard
from oocyteseg.errors import OocytesegError
from oocyteseg.io.video import VideoFrame, VideoInfo, iter_frames
from tests.inference.conftest import make_tiny_phantom

FRAMES = 12  # 1.5 s at 8 fps


@pytest.fixture(scope="module")
def analysed(tiny_phantom, tiny_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    code = main(["analyze", str(tiny_phantom / "icsi"), "--model", str(tiny_checkpoint), "--out", str(out),
                 "--labelme", "--labelme-fps", "2", "--threads", "1"])
    assert code == 0
    return out


def test_masks_and_features_are_the_predictors(analysed, tiny_phantom, tiny_checkpoint):
    """What analyze stores is what the model predicts on the decoded frames, and the table measures it
    (an all-zero or a shuffled predictor fails here)."""
    from oocyteseg.inference.predictor import TorchPredictor
    from oocyteseg.morphometry.measure import mask_features

    case = analysed / "case01" / "case01"
    masks = np.concatenate([np.load(p)["masks"] for p in sorted((case / "masks").glob("chunk_*.npz"))])
    frames = [f.image for f in iter_frames(tiny_phantom / "icsi" / "case01" / "case01.mp4")]
    expected = TorchPredictor.from_checkpoint(tiny_checkpoint, device="cpu").predict(frames)
    assert masks.any()  # the untrained tiny model predicts foreground, so an all-zero writer would fail
    assert all(np.array_equal(m, e) for m, e in zip(masks, expected)) and len(masks) == len(expected)
    table = pd.read_parquet(case / "features.parquet")
    for i in (0, FRAMES - 1):
        f = mask_features(expected[i], ICSI)
        for col in ("oocyte_area", "serc_area_total", "needle_components"):
            assert table[col].iat[i] == pytest.approx(f[col], nan_ok=True), col


def test_every_output_is_written(analysed):
    case = analysed / "case01" / "case01"  # OUT/<case>/<video stem>/
    for name in ("analysis.json", "done.json", "features.csv", "features.parquet", "overlay.mp4",
                 "summary.json", "summary.md"):
        assert (case / name).is_file(), name
    table = pd.read_parquet(case / "features.parquet")
    assert len(table) == FRAMES and list(table["frame_index"]) == list(range(FRAMES))
    for col in ("time_s", "f1", "f2", "f3", "f4", "reason", "qc", "qc_jump", "qc_flagged", "tip_x_smooth"):
        assert col in table.columns
    assert len(pd.read_csv(case / "features.csv")) == FRAMES
    masks = np.concatenate([np.load(p)["masks"] for p in sorted((case / "masks").glob("chunk_*.npz"))])
    assert masks.shape == (FRAMES, 96, 128) and masks.dtype == np.uint8 and masks.max() < 4
    overlay = list(iter_frames(case / "overlay.mp4"))
    assert len(overlay) == FRAMES and overlay[0].image.shape == (96, 128, 3)
    summary = json.loads((case / "summary.json").read_text())
    assert summary["frames_analysed"] == FRAMES and summary["model"]["backend"] == "torch"
    labelme = sorted((case / "labelme").glob("*.json"))
    assert len(labelme) == 3 and all(p.with_suffix(".png").is_file() for p in labelme)  # 2 per s over 1.5 s
    assert len(list((case / "labelme_masks").glob("*.png"))) == 3
    doc = json.loads(labelme[0].read_text())
    assert doc["imagePath"] == labelme[0].with_suffix(".png").name and doc["imageHeight"] == 96
    run = json.loads((analysed / "run.json").read_text())
    assert run["command"].startswith("oocyteseg analyze ") and "--labelme" in run["command"]


def test_fps_sampling_and_onnx_backend(tiny_phantom, tiny_checkpoint, tmp_path):
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    code = main(["analyze", str(video), "--model", str(tiny_checkpoint), "--out", str(tmp_path), "--fps", "4",
                 "--backend", "onnx", "--threads", "1", "--no-overlay"])
    assert code == 0
    folder = tmp_path / "case01" / "case01"  # a video passed by name: its stem is the case
    table = pd.read_csv(folder / "features.csv")
    assert list(table["frame_index"]) == [0, 2, 4, 6, 8, 10]
    assert not (folder / "overlay.mp4").exists()
    assert json.loads((folder / "summary.json").read_text())["model"]["backend"] == "onnx"
    assert main(["analyze", str(video), "--model", str(tiny_checkpoint), "--out", str(tmp_path),
                 "--fps", "zero"]) == 2


class _PixelPredictor:
    """Masks read off each frame's own pixels (green level in 4 bins), after a random pause: results finish
    out of order, and a mask that left with the wrong frame would not match."""

    labels = ICSI

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def predict(self, images, batch_size=8):
        time.sleep(float(self.rng.uniform(0, 0.03)))
        return [np.digitize(im[..., 1], [60, 120, 180]).astype(np.uint8) for im in images]


def test_parallel_workers_give_the_single_workers_outputs(tiny_phantom, tmp_path):
    """Two or three segmentation workers on one-frame batches: the same masks, table and injection read,
    frame for frame, as one worker."""
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    frames = [f.image for f in iter_frames(video)]
    expected = _PixelPredictor(0).predict(frames)
    assert len({m.tobytes() for m in expected}) > FRAMES // 2  # the frames' masks differ
    folders = {}
    for workers in (1, 2, 3):
        folders[workers] = tmp_path / f"w{workers}"
        result = analyze_video(video, "case01", _PixelPredictor(workers), folders[workers],
                               AnalyzeConfig(batch_size=1, workers=workers))
        assert result.frames == FRAMES
    for workers, folder in folders.items():
        masks = np.concatenate([np.load(p)["masks"] for p in sorted((folder / "masks").glob("chunk_*.npz"))])
        assert len(masks) == FRAMES and all(np.array_equal(m, e) for m, e in zip(masks, expected)), workers
        for name in ("features.csv", "injection.csv"):
            pd.testing.assert_frame_equal(pd.read_csv(folder / name), pd.read_csv(folders[1] / name))


def test_a_failing_worker_stops_the_video_and_leaves_no_overlay(tiny_phantom, tmp_path):
    """A segmentation error in one of two workers is raised from `analyze_video` as it was raised, the
    pipeline's threads end, and no half-written overlay or done.json is left."""
    import threading

    from oocyteseg.reports.overlay_video import overlay_sink

    class Failing(_PixelPredictor):
        def predict(self, images, batch_size=8):
            if self.calls.setdefault("n", 0) >= 5:  # >=: two workers may both count past 5
                raise RuntimeError("model crashed on batch 6")
            self.calls["n"] += 1
            return super().predict(images, batch_size)

    predictor = Failing(0)
    predictor.calls = {}
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    with pytest.raises(RuntimeError, match="batch 6"):
        analyze_video(video, "case01", predictor, tmp_path / "v", AnalyzeConfig(batch_size=1, workers=2),
                      [overlay_sink])
    time.sleep(0.3)
    assert not [t for t in threading.enumerate() if t.name.startswith("analyze-case01")]
    assert not (tmp_path / "v" / "overlay.mp4").exists() and not (tmp_path / "v" / "done.json").exists()


def test_workers_option(tiny_phantom, tiny_checkpoint, tmp_path):
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    assert main(["analyze", str(video), "--model", str(tiny_checkpoint), "--out", str(tmp_path / "w3"),
                 "--workers", "3", "--no-overlay"]) == 0
    analysis = json.loads((tmp_path / "w3" / "case01" / "case01" / "analysis.json").read_text())
    assert analysis["config"]["workers"] == 3
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert analysis["model"]["threads"] == max(1, cores // 3)  # the cores shared among the workers
    assert main(["analyze", str(video), "--model", str(tiny_checkpoint), "--out", str(tmp_path / "w0"),
                 "--workers", "0"]) == 2


def test_corrupt_video_is_one_line_and_others_finish(tiny_phantom, tiny_checkpoint, tmp_path, capsys):
    folder = tmp_path / "videos"
    shutil.copytree(tiny_phantom / "icsi", folder)
    good = (folder / "case01" / "case01.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(good[: len(good) // 3])  # truncated
    (folder / "garbage.wmv").write_bytes(b"\x00not a video" * 100)
    out = tmp_path / "out"
    code = main(["analyze", str(folder), "--model", str(tiny_checkpoint), "--out", str(out), "--no-overlay"])
    err = capsys.readouterr().err
    assert code != 0
    assert (out / "case01" / "case01" / "done.json").is_file() and (out / "case02" / "case02" / "done.json").is_file()
    assert (out / "garbage" / "garbage" / "analysis.json").is_file()  # a file directly in the folder: stem = case
    assert not (out / "garbage" / "garbage" / "done.json").exists()
    assert not (out / "broken" / "broken" / "done.json").exists()
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert any("garbage.wmv" in ln for ln in lines) and any("broken.mp4" in ln for ln in lines)
    assert any("2 of 4 videos failed" in ln for ln in lines)
    assert "Traceback" not in err


def test_interrupted_run_resumes(tiny_phantom, tiny_checkpoint, tmp_path, capsys):
    args = ["analyze", str(tiny_phantom / "icsi"), "--model", str(tiny_checkpoint), "--out", str(tmp_path),
            "--no-overlay"]
    assert main(args) == 0
    first, second = tmp_path / "case01" / "case01", tmp_path / "case02" / "case02"
    done1 = (first / "done.json").read_text()
    (second / "done.json").unlink()  # as if killed before the end
    (second / "features.csv").write_text("half written")
    capsys.readouterr()
    assert main(args) == 0
    assert "1 videos analysed, 1 already done" in " ".join(capsys.readouterr().out.split())
    assert (first / "done.json").read_text() == done1  # untouched
    assert (second / "done.json").is_file()
    assert len(pd.read_csv(second / "features.csv")) == FRAMES
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x.txt").write_text("not ours")
    with pytest.raises(OocytesegError, match="not an oocyteseg analysis"):
        from oocyteseg.inference.batch import job_state

        job_state(tmp_path / "foreign", Path("foreign.mp4"))


def test_shards_split_the_sorted_list(tiny_phantom, tmp_path):
    extra = make_tiny_phantom(tmp_path / "more", cases=3)
    files = find_video_files([tiny_phantom / "icsi", extra / "icsi"])
    videos = [v for v, _ in files]
    assert videos == find_videos([tiny_phantom / "icsi", extra / "icsi"])
    jobs = name_jobs(files)
    assert len({j.name for j in jobs}) == len(jobs) == 5  # case01/case01.mp4 twice -> disambiguated names
    assert sorted(j.case for j in jobs) == ["case01", "case01", "case02", "case02", "case03"]
    parts = [select_shard(jobs, i, 2) for i in (1, 2)]
    assert sorted(j.path for p in parts for j in p) == sorted(videos) and not set(parts[0]) & set(parts[1])
    assert parts == [select_shard(jobs, i, 2) for i in (1, 2)]  # deterministic
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/2", "3/2", "x"):
        with pytest.raises(OocytesegError):
            parse_shard(bad)


def test_output_folder_inside_the_input_folder_is_not_searched(tiny_phantom, tmp_path):
    folder = tmp_path / "videos"
    shutil.copytree(tiny_phantom / "icsi" / "case01", folder / "case01")
    (folder / "runs" / "case01").mkdir(parents=True)
    (folder / "runs" / "case01" / "overlay.mp4").write_bytes(b"")
    assert [p.name for p in find_videos([folder], exclude=folder / "runs")] == ["case01.mp4"]
    assert len(find_videos([folder])) == 2


def test_shard_cli(tiny_phantom, tiny_checkpoint, tmp_path):
    assert main(["analyze", str(tiny_phantom / "icsi"), "--model", str(tiny_checkpoint), "--out", str(tmp_path),
                 "--shard", "2/2", "--no-overlay"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["case02"]
    assert (tmp_path / "case02" / "case02" / "done.json").is_file()


class _StubPredictor:
    """Returns a fixed realistic mask (no model): isolates the streaming structure."""

    labels = ICSI

    def __init__(self, mask):
        self.mask = mask

    def predict(self, images, batch_size=8):
        return [self.mask.copy() for _ in images]


def test_memory_does_not_grow_with_video_length(tiny_phantom, tmp_path, monkeypatch):
    mask = np.load(sorted(tiny_phantom.glob("icsi/*/*_masks.npz"))[0])["masks"][0]
    image = np.zeros((*mask.shape, 3), np.uint8)
    live = {"now": 0, "max": 0}

    class Tracked(VideoFrame):
        def __del__(self):
            live["now"] -= 1

    def fake_frames(path, n):
        for i in range(n):
            live["now"] += 1
            live["max"] = max(live["max"], live["now"])
            yield Tracked(i, i / 24, image)

    import oocyteseg.inference.video_analysis as va

    peaks = {}

    class MemoryProbe:  # a sink: traced memory while frames stream through
        def __init__(self, out_dir, info):
            self.peak = 0

        def write(self, frame, mask, features, shapes):
            self.peak = max(self.peak, tracemalloc.get_traced_memory()[0])

        def close(self, ok):
            probes.append(self)

    for n in (60, 480):
        probes: list = []
        monkeypatch.setattr(va, "sample_frames", lambda path, fps, n=n: fake_frames(path, n))
        monkeypatch.setattr(va, "probe_video", lambda path, n=n: VideoInfo(str(path), "mp4", "h264", 128, 96, 24.0,
                                                                           n / 24.0, n))
        live.update(now=0, max=0)
        tracemalloc.start()
        result = analyze_video(Path(f"v{n}.mp4"), f"v{n}", _StubPredictor(mask), tmp_path / f"v{n}",
                               AnalyzeConfig(batch_size=4, chunk_frames=16, queue_size=2), [MemoryProbe])
        tracemalloc.stop()
        peaks[n] = probes[0].peak
        assert result.frames == n
        assert len(list((tmp_path / f"v{n}" / "masks").glob("chunk_*.npz"))) == -(-n // 16)
        # frames alive at once are bounded by the queues (3 queues x 2 batches x 4 frames + in-stage), not by n
        assert live["max"] <= 3 * 2 * 4 + 4 * 4, live["max"]
    # while streaming, 420 more frames add only their table rows: a feature row and an injection row
    # (2.0-2.9 KB together, measured); keeping the frames (96x128 RGB, 37 KB each) or masks (12 KB each)
    # would add 15 MB / 5 MB
    assert peaks[480] - peaks[60] < 420 * 4_000, peaks


def test_video_of_another_aspect_is_warned_about(tiny_phantom, tmp_path, capsys):
    from tests.inference.conftest import make_checkpoint

    square = make_checkpoint(tmp_path / "square.pt", "unet_small_tiny", size=(48, 48))  # videos are 96x128
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    assert main(["analyze", str(video), "--model", str(square), "--out", str(tmp_path / "o"), "--threads", "1",
                 "--no-overlay"]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "128x96" in err and "stretched" in err
    summary = json.loads(next((tmp_path / "o").rglob("summary.json")).read_text())
    assert "stretched" in summary["size_warning"]
