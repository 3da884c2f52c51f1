"""`oocyteseg analyze` keeps case ids: OUT/<case>/<video>/, `case`/`video` in every table, --case, resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from oocyteseg.cli.main import main
from oocyteseg.data.ingest_frames import find_videos as frames_find_videos
from oocyteseg.errors import OocytesegError
from oocyteseg.inference import batch

FRAMES = 12  # 1.5 s at 8 fps
CASES = ("case01", "case02")


@pytest.fixture(scope="module")
def same_named(tiny_phantom, tiny_checkpoint, tmp_path_factory):
    """(videos, out): VIDEOS/case01/rec.mp4 and VIDEOS/case02/rec.mp4 (different videos), analysed."""
    root = tmp_path_factory.mktemp("same_named")
    videos = root / "videos"
    for case in CASES:
        (videos / case).mkdir(parents=True)
        shutil.copyfile(tiny_phantom / "icsi" / case / f"{case}.mp4", videos / case / "rec.mp4")
    out = root / "out"
    assert main(["analyze", str(videos), "--model", str(tiny_checkpoint), "--out", str(out), "--no-overlay",
                 "--threads", "1"]) == 0
    return videos, out


def _cli(videos: Path, checkpoint: Path, out: Path, *extra: str) -> list[str]:
    return ["analyze", str(videos), "--model", str(checkpoint), "--out", str(out), "--no-overlay", "--fps", "4",
            "--threads", "1", *extra]


def test_same_named_videos_in_two_cases_stay_apart(same_named):
    videos, out = same_named
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*/done.json")) == \
        ["case01/rec/done.json", "case02/rec/done.json"]
    for case in CASES:
        folder, video = out / case / "rec", str((videos / case / "rec.mp4").resolve())
        table = pd.read_parquet(folder / "features.parquet")
        assert len(table) == FRAMES
        assert set(table["case"]) == {case} and set(table["video"]) == {video}
        assert set(pd.read_csv(folder / "features.csv")["case"]) == {case}
        summary = json.loads((folder / "summary.json").read_text())
        assert (summary["case"], summary["video"]) == (case, video)
        started = json.loads((folder / "analysis.json").read_text())
        assert (started["case"], started["video"], started["folder"]) == (case, video, f"{case}/rec")


def test_run_summary_table_and_run_index_carry_case_and_video(same_named):
    videos, out = same_named
    table = pd.read_csv(out / "summary.csv")
    assert list(table.columns[:3]) == ["case", "video", "folder"]
    assert list(table["case"]) == list(CASES) and list(table["folder"]) == ["case01/rec", "case02/rec"]
    assert list(table["video"]) == [str((videos / c / "rec.mp4").resolve()) for c in CASES]
    assert (table["frames_analysed"] == FRAMES).all() and {"f1_mean", "f1_sd", "f4_mean"} <= set(table.columns)
    features = pd.concat([pd.read_csv(out / f / "features.csv") for f in table["folder"]])
    assert len(features.merge(table, on=["case", "video"])) == 2 * FRAMES  # the tables join
    run = json.loads((out / "run.json").read_text())
    assert [(v["case"], v["folder"]) for v in run["videos"]] == [("case01", "case01/rec"), ("case02", "case02/rec")]


def test_case_and_video_ids_are_those_of_oocyteseg_frames(tmp_path):
    for rel in ("case01/rec.mp4", "case01/rec.wmv", "case02/rec.mp4", "case02/sub/other.avi", "loose.mov"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")  # naming only: nothing is decoded
    sources, errors = frames_find_videos([tmp_path])
    jobs = batch.name_jobs(batch.find_video_files([tmp_path]))
    assert not errors
    assert sorted((s.case, s.video) for s in sources) == sorted((j.case, j.video_id) for j in jobs) == \
        [("case01", "rec-mp4"), ("case01", "rec-wmv"), ("case02", "other"), ("case02", "rec"), ("loose", "loose")]
    assert sorted(j.name for j in jobs) == ["case01/rec-mp4", "case01/rec-wmv", "case02/other", "case02/rec",
                                            "loose/loose"]


def test_case_option_sets_the_case(same_named, tiny_checkpoint, tmp_path, capsys):
    videos, _ = same_named
    out = tmp_path / "out"
    assert main(_cli(videos / "case01" / "rec.mp4", tiny_checkpoint, out, "--case", "P-07")) == 0
    folder = out / "P-07" / "rec"
    assert set(pd.read_csv(folder / "features.csv")["case"]) == {"P-07"}
    assert json.loads((folder / "summary.json").read_text())["case"] == "P-07"
    assert pd.read_csv(out / "summary.csv")["case"].tolist() == ["P-07"]
    assert "--case P-07" in json.loads((out / "run.json").read_text())["command"]
    capsys.readouterr()
    assert main(_cli(videos, tiny_checkpoint, tmp_path / "other", "--case", "P-07")) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error:") and "--case" in err[0] and "got 2 videos" in err[0]
    assert not (tmp_path / "other" / "P-07").exists()


def test_resume_and_shards_with_case_folders(same_named, tiny_checkpoint, tmp_path, capsys):
    videos, _ = same_named
    out = tmp_path / "out"
    assert main(_cli(videos, tiny_checkpoint, out, "--shard", "2/2")) == 0
    assert [p.relative_to(out).as_posix() for p in out.glob("*/*/done.json")] == ["case02/rec/done.json"]
    assert main(_cli(videos, tiny_checkpoint, out, "--shard", "1/2")) == 0
    assert pd.read_csv(out / "summary.csv")["folder"].tolist() == ["case01/rec", "case02/rec"]  # both shards
    done = (out / "case01" / "rec" / "done.json").read_text()
    (out / "case02" / "rec" / "done.json").unlink()  # as if killed before the end
    capsys.readouterr()
    assert main(_cli(videos, tiny_checkpoint, out)) == 0
    assert "1 videos analysed, 1 already done" in " ".join(capsys.readouterr().out.split())
    assert (out / "case01" / "rec" / "done.json").read_text() == done  # found and skipped
    assert (out / "case02" / "rec" / "done.json").is_file()
    assert set(pd.read_csv(out / "case02" / "rec" / "features.csv")["case"]) == {"case02"}


def test_a_folder_of_the_old_layout_is_not_mixed_with_case_folders(tmp_path):
    old = tmp_path / "case01"  # OUT/<stem>/ as written before case folders
    old.mkdir()
    (old / "analysis.json").write_text(json.dumps({"video": "/videos/case01/case01.mp4", "case": "case01"}))
    (old / "done.json").write_text("{}")
    with pytest.raises(OocytesegError, match="before output folders were OUT/<case>/<video>"):
        batch.job_state(old / "case01", Path("/videos/case01/case01.mp4"))


def test_analyze_finds_every_video_suffix_that_frames_reads(tmp_path):
    """One suffix list for `frames` and `analyze`: an .asf recording (WMV's container) is found too."""
    from oocyteseg.inference.batch import find_video_files
    from oocyteseg.io.video import VIDEO_SUFFIXES

    for suffix in VIDEO_SUFFIXES:
        (tmp_path / "case01" / f"rec{suffix}").parent.mkdir(exist_ok=True)
        (tmp_path / "case01" / f"rec{suffix}").write_bytes(b"")
    found = {p.suffix for p, _ in find_video_files([tmp_path])}
    assert found == set(VIDEO_SUFFIXES) and ".asf" in found
