"""Still images through `oocyteseg analyze`: masks, overlays, LabelMe files and one features row per image,
with the case from the folder layout, resume, and one-line errors for unreadable images."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import torch

from oocyteseg.cli.main import main
from oocyteseg.io.images import read_mask, write_image
from oocyteseg.models import create_model, make_model_config, save_checkpoint


def _checkpoint(path, labelset, classes):
    torch.manual_seed(0)
    model = create_model("unet_small_tiny", num_classes=classes)
    return save_checkpoint(path, model, make_model_config("unet_small_tiny", classes),
                           {"size": [32, 32], "labelset": labelset})


def _images(root):
    rng = np.random.default_rng(0)
    for case in ("case01", "case02"):
        for k in range(2):
            write_image(root / case / f"img{k}.png", rng.integers(0, 255, (64, 80, 3), dtype=np.uint8))
    (root / "case02" / "broken.png").write_bytes(b"not a png")
    return root


def test_analyze_still_images(tmp_path, capsys):
    images = _images(tmp_path / "images")
    ckpt = _checkpoint(tmp_path / "incl.pt", "inclusions", 2)
    out = tmp_path / "out"
    args = ["analyze", str(images), "--model", str(ckpt), "--out", str(out), "--threads", "1"]
    assert main(args) == 2  # one broken image: a one-line error, the others complete
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "4 images analysed" in captured.out
    stills = out / "stills"
    table = pd.read_csv(stills / "features.csv")
    assert sorted(table["case"]) == ["case01", "case01", "case02", "case02"]
    assert "inclusion_count" in table.columns and table["image"].str.endswith(".png").all()
    mask = read_mask(stills / "case01" / "img0_mask.png")
    assert mask.shape == (64, 80) and mask.max() <= 1  # native size, the model's two classes
    assert (stills / "case01" / "img0_overlay.png").is_file()
    doc = json.loads((stills / "case01" / "img0.json").read_text())
    assert doc["imageHeight"] == 64 and (stills / "case01" / doc["imagePath"]).resolve() == \
        (images / "case01" / "img0.png").resolve()
    failed = pd.read_csv(stills / "failed.csv")
    assert len(failed) == 1 and "broken.png" in failed["image"].iloc[0]
    # re-run: finished images are skipped, the inputs are untouched
    (images / "case02" / "broken.png").unlink()
    assert main(args) == 0
    assert "0 images analysed, 4 already done" in capsys.readouterr().out
    assert len(pd.read_csv(stills / "features.csv")) == 4


def test_icsi_still_gets_the_shimotsu_features_and_a_case(tmp_path, capsys):
    image = tmp_path / "frame.png"
    write_image(image, np.full((48, 64, 3), 128, np.uint8))
    ckpt = _checkpoint(tmp_path / "icsi.pt", "icsi", 4)
    assert main(["analyze", str(image), "--model", str(ckpt), "--out", str(tmp_path / "o"), "--case", "lab7"]) == 0
    table = pd.read_csv(tmp_path / "o" / "stills" / "features.csv")
    assert table["case"].tolist() == ["lab7"] and {"f1", "f2", "f3", "f4", "reason"} <= set(table.columns)


def test_a_folder_with_videos_is_a_video_folder(tmp_path):
    from oocyteseg.reports.stills import find_images

    images = _images(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "rec.mp4").write_bytes(b"")
    write_image(tmp_path / "b" / "still.png", np.zeros((8, 8, 3), np.uint8))
    found = [p.name for p, _ in find_images([images, tmp_path / "b"])]
    assert "still.png" not in found and len(found) == 5
    assert [p.name for p, _ in find_images([tmp_path / "b" / "still.png"])] == ["still.png"]  # named directly


def test_a_frame_of_another_aspect_is_warned_about(tmp_path, capsys):
    from oocyteseg.data.preprocess import InputSpec, size_warning

    assert size_warning((480, 640), InputSpec((240, 320))) is None  # same aspect: no warning
    stretch = InputSpec((240, 320), resize_policy="stretch")
    assert "stretched" in size_warning((1080, 1920), stretch)
    assert "stretched" in size_warning((640, 480), stretch)  # portrait into a landscape model
    assert "letterboxed" in size_warning((640, 480), InputSpec((240, 320)))  # not distorted, but said
    image = tmp_path / "portrait.png"
    write_image(image, np.full((96, 48, 3), 128, np.uint8))
    ckpt = _checkpoint(tmp_path / "icsi.pt", "icsi", 4)  # trained at 32x32: square
    assert main(["analyze", str(image), "--model", str(ckpt), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "48x96" in err and "stretched" in err


def test_has_videos_finds_videos_by_suffix_and_skips_the_excluded_folder(tmp_path):
    from oocyteseg.reports.stills import has_videos

    (tmp_path / "stills").mkdir()
    (tmp_path / "stills" / "a.png").write_bytes(b"")
    assert not has_videos([tmp_path / "stills"])
    assert not has_videos([tmp_path / "stills" / "a.png", tmp_path / "missing"])
    (tmp_path / "runs" / "out").mkdir(parents=True)
    (tmp_path / "runs" / "out" / "overlay.mp4").write_bytes(b"")
    assert not has_videos([tmp_path / "runs"], exclude=tmp_path / "runs" / "out")
    assert has_videos([tmp_path / "missing", tmp_path / "runs"])
    assert has_videos([tmp_path / "runs" / "out" / "overlay.mp4"])
