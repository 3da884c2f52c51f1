import json

import numpy as np
import pandas as pd

from oocyteseg.classes import ICSI
from oocyteseg.cli.main import main
from oocyteseg.io.images import read_mask
from oocyteseg.io.labelme import read_labelme_mask
from oocyteseg.io.video import iter_frames
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset


def test_manifest_lists_every_file_with_its_case(small_phantom):
    root = small_phantom.parent
    df = pd.read_csv(small_phantom)
    assert set(df[df.labelset == "icsi"].case) == {"case01", "case02", "case03", "case04"}
    assert (df.labelset == "inclusions").sum() == 6
    for col in ("image", "mask"):
        assert all((root / p).is_file() for p in df[col])
    assert all((root / p).is_file() for p in df[df.labelset == "icsi"].labelme)


def test_every_icsi_class_present_across_the_data_set(small_phantom):
    root = small_phantom.parent
    df = pd.read_csv(small_phantom)
    seen = set()
    for p in df[df.labelset == "icsi"]["mask"]:
        seen |= set(np.unique(read_mask(root / p)).tolist())
    assert seen == {0, 1, 2, 3}


def test_videos_decode_back_to_the_same_frame_count(small_phantom):
    root = small_phantom.parent
    videos = pd.read_csv(root / "videos.csv")
    for _, v in videos.iterrows():
        masks = np.load(root / v["masks"])["masks"]
        assert masks.shape[0] == v["frames"] == 24
        for ext in ("mp4", "wmv"):
            frames = list(iter_frames(root / f"icsi/{v['case']}/{v['case']}.{ext}"))
            assert len(frames) == v["frames"]
            assert frames[0].image.shape == (480, 640, 3)
            times = [f.time_s for f in frames]
            assert times == sorted(times) and abs(times[12] - 1.0) < 0.05


def test_decoded_video_matches_rendered_stills(small_phantom):
    root = small_phantom.parent
    df = pd.read_csv(small_phantom)
    row = df[(df.case == "case02") & (df.frame_index == 12)].iloc[0]
    from oocyteseg.io.images import read_image
    still = read_image(root / row["image"]).astype(float)
    frame = next(f for f in iter_frames(root / "icsi/case02/case02.mp4") if f.index == 12)
    assert np.abs(frame.image.astype(float) - still).mean() < 4.0  # lossy codec, same picture


def test_labelme_polygons_rasterise_back_to_the_exact_masks(small_phantom):
    root = small_phantom.parent
    df = pd.read_csv(small_phantom)
    for _, row in df[df.labelset == "icsi"].iterrows():
        exact = read_mask(root / row["mask"])
        doc = json.loads((root / row["labelme"]).read_text())
        assert doc["imageHeight"] == 480 and doc["imagePath"].endswith(".png")
        raster = read_labelme_mask(root / row["labelme"], ICSI)
        for c in (1, 2, 3):
            a, b = exact == c, raster == c
            if not a.any():
                assert not b.any()
                continue
            iou = (a & b).sum() / (a | b).sum()
            assert iou >= 0.97, (row["labelme"], c, iou)


def test_dataset_is_deterministic(tmp_path):
    cfg = PhantomConfig(cases=1, seed=9, seconds=0.5, fps=8, inclusion_images=2, video_formats=())
    a = make_phantom_dataset(tmp_path / "a", cfg)
    b = make_phantom_dataset(tmp_path / "b", cfg)
    for rel in pd.read_csv(a)["image"].tolist() + pd.read_csv(a)["mask"].tolist():
        assert (a.parent / rel).read_bytes() == (b.parent / rel).read_bytes()


def test_cli_phantom_refuses_to_overwrite_without_flag(tmp_path, capsys):
    args = ["phantom", "--out", str(tmp_path), "--cases", "1", "--seconds", "0.5", "--fps", "8",
            "--inclusion-images", "1", "--formats", "mp4"]
    assert main(args) == 0
    before = (tmp_path / "manifest.csv").read_bytes()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "manifest.csv").read_bytes() == before
    assert main(args + ["--overwrite"]) == 0


def test_cli_rejects_bad_settings(tmp_path, capsys):
    assert main(["phantom", "--out", str(tmp_path), "--height", "63"]) == 2
    assert "even" in capsys.readouterr().err


def test_video_cases_get_videos_the_others_stills_only(tmp_path):
    """Only the named cases are rendered as videos; every case's stills are the same as with all videos."""
    import pytest

    from oocyteseg.errors import OocytesegError

    kw = dict(cases=2, seed=3, seconds=0.5, fps=8, label_fps=4, height=96, width=128, video_formats=("mp4",),
              inclusion_images=0, anatomy=False)
    some = make_phantom_dataset(tmp_path / "some", PhantomConfig(video_cases=("case02",), **kw))
    every = make_phantom_dataset(tmp_path / "all", PhantomConfig(**kw))
    assert not list((some.parent / "icsi" / "case01").glob("*.mp4"))
    assert len(list(iter_frames(some.parent / "icsi" / "case02" / "case02.mp4"))) == 4
    assert list(pd.read_csv(some.parent / "videos.csv")["case"]) == ["case02"]
    a, b = pd.read_csv(some), pd.read_csv(every)
    assert list(a["image"]) == list(b["image"])
    for rel in a["image"].tolist() + a["mask"].tolist():
        assert (some.parent / rel).read_bytes() == (every.parent / rel).read_bytes(), rel
    with pytest.raises(OocytesegError, match="case07"):
        make_phantom_dataset(tmp_path / "bad", PhantomConfig(video_cases=("case07",), **kw))
