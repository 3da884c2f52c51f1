"""A lab's own data end to end: portrait images, a 2-class classes file of its own, a video of another size.

dataset folder -> cv (tiny) -> final model -> analyze (images and a video) -> report, through the real CLI.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from oocyteseg.cli.main import main
from oocyteseg.io.images import write_image, write_mask
from oocyteseg.io.video import VideoWriter

torch.set_num_threads(1)

CLASSES = """
name: embryo
classes:
- {name: background, color: [0, 0, 0]}
- {name: embryo, color: [200, 80, 80], aliases: [blastocyst]}
"""


def _scene(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """A grey textured image with one bright disc (the 'embryo') and its mask."""
    image = rng.normal(90, 12, (h, w, 3)).clip(0, 255).astype(np.uint8)
    mask = np.zeros((h, w), np.uint8)
    r = int(rng.integers(min(h, w) // 6, min(h, w) // 3))
    cx, cy = int(rng.integers(r, w - r)), int(rng.integers(r, h - r))
    cv2.circle(mask, (cx, cy), r, 1, -1)
    image[mask == 1] = (image[mask == 1].astype(int) + 90).clip(0, 255).astype(np.uint8)
    return image, mask


def _cv_with_final_model(tmp_path, manifest, classes: str, size: list[int]):
    """`oocyteseg cv ... --final` of a tiny model (2 steps per fold) on `manifest`; returns the CV folder."""
    config = {"data": {"manifests": [str(manifest)], "classes": classes, "size": size},
              "model": {"name": "unet_small_tiny"},
              "optim": {"name": "adamw", "lr": 3e-3, "batch_size": 2, "max_steps": 2, "scheduler": "cosine"},
              "loss": {"name": "ce+dice"}, "augment": "andreini",
              "trainer": {"accelerator": "cpu", "devices": 1, "val_every_n_steps": 1, "log_every_n_steps": 1,
                          "checkpoint_every_n_steps": 1}}
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump(config))
    cv = tmp_path / "cv"
    assert main(["cv", "--config", str(cfg), "--folds", "leave-one-case-out", "--out", str(cv), "--no-progress",
                 "--final"]) == 0
    return cv


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    rng = np.random.default_rng(0)
    for case in ("c1", "c2", "c3"):
        for k in range(2):
            image, mask = _scene(rng, 320, 240)  # portrait: 320 high, 240 wide
            write_image(root / "images" / case / f"im{k}.png", image)
            write_mask(root / "masks" / case / f"im{k}.png", mask)
    (root / "classes.yaml").write_text(CLASSES)
    with VideoWriter(root / "videos" / "c9" / "rec.mp4", fps=4) as w:  # landscape, another size
        for _ in range(3):
            w.write(_scene(rng, 200, 288)[0])
    return root


def test_own_label_set_from_ingestion_to_report(lab, tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["dataset", "folder", str(lab / "images"), str(lab / "masks"), "--classes",
                 str(lab / "classes.yaml"), "--out", str(data)]) == 0
    assert (data / "classes.yaml").is_file()  # the masks' classes travel with them
    cv = _cv_with_final_model(tmp_path, data / "manifest.csv", "embryo", [96, 64])
    table = pd.read_csv(cv / "per_case_iou.csv")
    assert list(table.columns) == ["case", "embryo", "Average"] and table["case"].tolist()[:3] == ["c1", "c2", "c3"]
    card = json.loads((cv / "final" / "model_card.json").read_text())
    assert card["classes"] == ["background", "embryo"] and card["labelset"] == "embryo"

    out = tmp_path / "analysis"
    assert main(["analyze", str(lab / "images"), str(lab / "videos"), "--model", str(cv / "final" / "model.onnx"),
                 "--out", str(out)]) == 0
    stills = pd.read_csv(out / "stills" / "features.csv")
    assert len(stills) == 6 and {"embryo_area", "embryo_count"} <= set(stills.columns)
    assert "f1" not in stills.columns  # no ICSI role, so no Shimotsu feature computed from a wrong class
    masks = sorted((out / "stills").rglob("*_mask.png"))
    assert len(masks) == 6 and cv2.imread(str(masks[0]), cv2.IMREAD_UNCHANGED).shape[:2] == (320, 240)
    video_dir = out / "c9" / "rec"
    summary = json.loads((video_dir / "summary.json").read_text())
    assert summary["model"]["label_set"]["classes"] == ["background", "embryo"]
    frames = pd.read_csv(video_dir / "features.csv")
    assert len(frames) == 3 and "embryo_area" in frames.columns and set(frames["case"]) == {"c9"}
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "embryo" in html


def test_training_refuses_classes_that_disagree_with_the_data(lab, tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["dataset", "folder", str(lab / "images"), str(lab / "masks"), "--classes",
                 str(lab / "classes.yaml"), "--out", str(data)]) == 0
    other = tmp_path / "other.yaml"
    other.write_text(CLASSES.replace("- {name: background, color: [0, 0, 0]}\n- {name: embryo, color: [200, 80, 80], "
                                     "aliases: [blastocyst]}",
                                     "- {name: embryo, color: [200, 80, 80]}\n- {name: background, color: [0, 0, 0]}"))
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"data": {"manifests": [str(data)], "classes": str(other), "size": [96, 64]},
                                   "model": {"name": "unet_small_tiny"}, "optim": {"max_steps": 1}}))
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    assert "written with classes ['background', 'embryo']" in err and "manifest.csv" in err
    cfg.write_text(yaml.safe_dump({"data": {"manifests": [str(data)], "classes": "no-such-set", "size": [96, 64]},
                                   "model": {"name": "unet_small_tiny"}, "optim": {"max_steps": 1}}))
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "run2"), "--no-progress"]) == 2
    assert "unknown label set 'no-such-set'; valid: icsi, inclusions, oocyte-anatomy" in capsys.readouterr().err


def test_anatomy_label_set_from_the_phantom_to_report(tmp_path):
    """The phantom's 5-class oocyte-anatomy set: cv (tiny) -> final model -> analyze a video -> report."""
    from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

    phantom = tmp_path / "phantom"
    make_phantom_dataset(phantom, PhantomConfig(cases=3, seconds=1, fps=4, label_fps=2, height=96, width=128,
                                                video_formats=("mp4",), inclusion_images=0))
    cv = _cv_with_final_model(tmp_path, phantom / "manifest.csv", "oocyte-anatomy", [48, 64])
    table = pd.read_csv(cv / "per_case_iou.csv")
    assert list(table.columns) == ["case", "zona", "PVS", "ooplasm", "polar body", "Average"]
    video = sorted(phantom.rglob("*.mp4"))[0]
    out = tmp_path / "analysis"
    assert main(["analyze", str(video), "--model", str(cv / "final" / "model.onnx"), "--out", str(out),
                 "--case", "case01"]) == 0
    frames = pd.read_csv(next(out.rglob("features.csv")))
    assert {"zona_area", "ooplasm_area", "zona_thickness_mean", "polar_body_present"} <= set(frames.columns)
    assert "f1" not in frames.columns and len(frames) == 4
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "zona" in html
    # the video's exact masks are ICSI masks: never scored against an anatomy model's predictions
    assert "Not scored" in html and "Segmentation against ground truth" not in html
