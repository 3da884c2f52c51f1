"""`oocyteseg frames`: folder layouts, case ids, bad videos in a folder run, no overwrite, inputs untouched."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
from video_helpers import frame_number, write_video  # noqa: E402

from oocyteseg.cli.main import main
from oocyteseg.data.ingest_frames import extract_frames, find_videos
from oocyteseg.io.images import read_image
from oocyteseg.io.video import sample_frames


def _hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _videos(root: Path) -> Path:
    write_video(root / "caseA" / "clip.wmv", 25, fps=10, codec="wmv2", fmt="asf")
    write_video(root / "caseA" / "clip.mp4", 25, fps=10, codec="libx264", fmt="mp4")
    write_video(root / "caseB" / "sub" / "late.avi", 12, fps=10, codec="mpeg4", fmt="avi")
    write_video(root / "lone.mov", 10, fps=10, codec="libx264", fmt="mov")
    (root / "caseB" / "readme.txt").write_text("not a video, ignored (no video suffix)")
    return root


def test_case_and_video_ids_from_the_layout(tmp_path):
    sources, errors = find_videos([_videos(tmp_path / "in")])
    assert not errors
    assert sorted((s.case, s.video) for s in sources) == [("caseA", "clip-mp4"), ("caseA", "clip-wmv"),
                                                          ("caseB", "late"), ("lone", "lone")]
    sources, _ = find_videos([tmp_path / "in" / "lone.mov"], case="C7")
    assert [(s.case, s.video) for s in sources] == [("C7", "lone")]


def test_frames_cli_writes_stills_and_table(tmp_path):
    src = _videos(tmp_path / "in")
    before = _hashes(src)
    out = tmp_path / "out"
    assert main(["frames", str(src), "--fps", "1", "--out", str(out)]) == 0
    df = pd.read_csv(out / "frames.csv", dtype={"case": str})
    assert list(df.columns) == ["case", "video", "frame_index", "time_s", "path", "width", "height"]
    clip = df[(df.case == "caseA") & df.video.str.endswith("clip.wmv")]
    assert clip.frame_index.tolist() == [0, 10, 20] and clip.time_s.tolist() == [0.0, 1.0, 2.0]
    for _, row in df.iterrows():
        image = read_image(out / row["path"])
        assert image.shape == (row["height"], row["width"], 3)
        assert frame_number(image) == row["frame_index"] % 32
        assert (out / row["video"]).resolve().is_file()
    assert (out / "caseA" / "caseA_clip-wmv_f00010_t0001.000.png").is_file()
    assert _hashes(src) == before  # inputs never modified
    # a second run without --overwrite refuses; with it, succeeds
    assert main(["frames", str(src), "--out", str(out)]) == 2
    assert main(["frames", str(src), "--fps", "all", "--out", str(out), "--overwrite"]) == 0
    assert len(pd.read_csv(out / "frames.csv")) == 25 + 25 + 12 + 10


def test_folder_run_finishes_good_videos_and_lists_bad_ones(tmp_path, capsys):
    src = tmp_path / "in"
    write_video(src / "c1" / "good.wmv", 15, fps=10, codec="wmv2", fmt="asf")
    (src / "c2").mkdir(parents=True)
    (src / "c2" / "fake.wmv").write_text("not a video")
    data = write_video(tmp_path / "full.mp4", 40, fps=10, codec="libx264", fmt="mp4").read_bytes()
    (src / "c3").mkdir()
    (src / "c3" / "cut.mp4").write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    assert main(["frames", str(src), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "fake.wmv" in err and "cut.mp4" in err and "2 input(s) failed" in err
    df = pd.read_csv(out / "frames.csv")
    assert set(df.case) == {"c1"} and len(df) == 2
    assert sorted(p.name for p in out.rglob("*.png")) == sorted(Path(p).name for p in df.path)


def test_library_result_and_bad_fps(tmp_path):
    path = write_video(tmp_path / "v.avi", 5, fps=10, codec="mpeg4", fmt="avi")
    result = extract_frames([path], tmp_path / "o", fps=None, case="x")
    assert result.ok and result.rows == 5 and result.table == tmp_path / "o" / "frames.csv"
    assert main(["frames", str(path), "--fps", "fast", "--out", str(tmp_path / "o2")]) == 2
    assert main(["frames", str(tmp_path / "missing"), "--out", str(tmp_path / "o3")]) == 2


def test_frames_of_the_phantom_are_taken_at_the_right_times(small_phantom, tmp_path):
    """`frames --fps 1` on the phantom's MP4 and WMV picks the stills the phantom rendered at 0 s, 1 s."""
    root = small_phantom.parent
    manifest = pd.read_csv(small_phantom)
    videos = pd.read_csv(root / "videos.csv")
    out = tmp_path / "frames"
    assert main(["frames", str(root / "icsi"), "--fps", "1", "--out", str(out)]) == 0
    df = pd.read_csv(out / "frames.csv")
    for _, v in videos.iterrows():
        stills = manifest[(manifest.case == v["case"]) & (manifest.labelset == "icsi")]
        for ext in ("mp4", "wmv"):
            got = df[(df.case == v["case"]) & df.video.str.endswith(f".{ext}")]
            assert got.frame_index.tolist() == stills.frame_index.tolist()
            assert np.allclose(got.time_s, stills.time_s, atol=1e-3)
            for (_, g), (_, s) in zip(got.iterrows(), stills.iterrows()):
                frame = read_image(out / g["path"]).astype(float)
                still = read_image(root / s["image"]).astype(float)
                assert np.abs(frame - still).mean() < 5.0, (g["path"], s["image"])
    # every frame decodes (what --fps all writes): the count equals the phantom's
    for _, v in videos.iterrows():
        for ext in ("mp4", "wmv"):
            assert sum(1 for _ in sample_frames(root / f"icsi/{v['case']}/{v['case']}.{ext}", None)) == v["frames"]


def test_duplicate_videos_are_reported(tmp_path):
    a = write_video(tmp_path / "in" / "c1" / "x" / "clip.avi", 3, fps=10, codec="mpeg4", fmt="avi")
    write_video(tmp_path / "in" / "c1" / "y" / "clip.avi", 3, fps=10, codec="mpeg4", fmt="avi")
    sources, errors = find_videos([tmp_path / "in", a])
    assert len(sources) == 1
    messages = " | ".join(str(e) for e in errors)
    assert "listed twice" in messages and "duplicate video name 'clip-avi'" in messages
    result = extract_frames([tmp_path / "in"], tmp_path / "o")
    assert result.rows == 1 and len(result.errors) == 1


def test_interrupted_run_leaves_no_partial_files(tmp_path):
    path = write_video(tmp_path / "v.avi", 20, fps=10, codec="mpeg4", fmt="avi")
    calls = []

    def stop(name, done, total):
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt

    try:
        extract_frames([path], tmp_path / "o", fps=None, progress=stop)
    except KeyboardInterrupt:
        pass
    written = sorted(p.name for p in (tmp_path / "o").rglob("*"))
    assert not (tmp_path / "o" / "frames.csv").exists()
    assert all(name.endswith(".png") and not name.startswith(".") for name in written if "." in name), written
