"""`oocyteseg dataset check`: a clean phantom passes with a Table-1 style summary; each defect is found."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd

from oocyteseg.cli.main import main
from oocyteseg.data.check import check_dataset
from oocyteseg.io.images import read_mask, write_mask


def test_phantom_passes_and_summary_counts_images_and_pixels(small_phantom, capsys):
    report = check_dataset(small_phantom)
    manifest = pd.read_csv(small_phantom)
    assert report.ok and report.rows == len(manifest)
    icsi = report.per_case[report.per_case.labelset == "icsi"]
    assert icsi.images.sum() == (manifest.labelset == "icsi").sum() and (icsi.videos == 1).all()
    px = report.class_pixels[report.class_pixels.labelset == "icsi"]
    assert px.pixels.sum() == 480 * 640 * (manifest.labelset == "icsi").sum()
    assert abs(px.fraction.sum() - 1) < 1e-9 and list(px["class"]) == ["background", "oocyte", "sERC", "needle"]
    assert set(zip(report.sizes.width, report.sizes.height)) == {(640, 480), (256, 256)}
    assert main(["dataset", "check", str(small_phantom.parent)]) == 0
    out = capsys.readouterr().out
    assert "Images per case" in out and "Pixels per class" in out and "no problems" in out


def test_each_defect_is_reported(small_phantom, tmp_path, capsys):
    root = tmp_path / "ds"
    shutil.copytree(small_phantom.parent, root, ignore=shutil.ignore_patterns("*.mp4", "*.wmv", "*.npz", "*.json"))
    df = pd.read_csv(root / "manifest.csv", keep_default_na=False)
    rows = df.index[df.labelset == "icsi"].tolist()
    (root / df.loc[rows[0], "image"]).write_bytes(b"broken")  # unreadable image
    mask = read_mask(root / df.loc[rows[1], "mask"])
    write_mask(root / df.loc[rows[1], "mask"], mask[:-2])  # mask smaller than the image
    write_mask(root / df.loc[rows[2], "mask"], np.full_like(mask, 9))  # value outside the classes
    df.loc[rows[3], "width"] = 999  # size column wrong
    df = pd.concat([df, df.loc[[rows[4]]]])  # the same image listed twice
    copy = df.loc[[rows[5]]].copy()  # the same pixels under another case
    shutil.copy(root / copy.iloc[0]["image"], root / "copy.png")
    copy["image"], copy["case"] = "copy.png", "other"
    df = pd.concat([df, copy])
    df.to_csv(root / "manifest.csv", index=False)
    report = check_dataset(root)
    text = " | ".join(str(p) for p in report.problems)
    for needle in ("cannot read image", "mask is 640x478", "value(s) [9]", "manifest says 999x480",
                   "listed twice", "another case"):
        assert needle in text, needle
    assert len(report.problems) == 6
    assert main(["dataset", "check", str(root / "manifest.csv")]) == 1
    assert "6 problem(s)" in capsys.readouterr().out
    assert main(["dataset", "check", str(tmp_path / "none")]) == 2
