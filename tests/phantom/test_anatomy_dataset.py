"""The phantom data set's second label set: oocyte-anatomy rows, files, and no leak into the icsi studies."""

import json

import numpy as np
import pandas as pd

from oocyteseg.classes import OOCYTE_ANATOMY
from oocyteseg.cli.main import main
from oocyteseg.data.check import check_dataset
from oocyteseg.data.manifest import load_manifest
from oocyteseg.io.classes_file import BUILTIN
from oocyteseg.io.images import read_mask
from oocyteseg.io.labelme import load_labelme_image, read_labelme_mask
from oocyteseg.phantom.render import OOPLASM, POLAR_BODY
from oocyteseg.training.data import load_rows


def test_every_still_has_an_anatomy_row_on_the_same_image(small_phantom):
    icsi = load_manifest(small_phantom, labelset="icsi")
    anatomy = load_manifest(small_phantom, labelset="oocyte-anatomy")
    assert len(anatomy) == len(icsi) == 8
    key = ["case", "frame_index", "image", "video", "time_s"]
    assert anatomy[key].equals(icsi[key])
    for _, row in anatomy.iterrows():
        mask = read_mask(row["mask_path"])
        assert mask.shape == (row["height"], row["width"]) and set(np.unique(mask)) <= {0, 1, 2, 3, 4}
        truth = read_mask(icsi[icsi.image == row["image"]].iloc[0]["mask_path"])
        assert not (np.isin(truth, [1, 2]) & (mask != OOPLASM)).any()  # ICSI oocyte + sERC lie in the ooplasm


def test_anatomy_labelme_opens_the_still_and_rasterises_back(small_phantom):
    root = small_phantom.parent
    anatomy = load_manifest(small_phantom, labelset="oocyte-anatomy")
    for _, row in anatomy.iterrows():
        doc = json.loads((root / row["labelme"]).read_text())
        image = load_labelme_image(doc, root / row["labelme"])
        assert image.shape == (480, 640, 3)
        exact, raster = read_mask(row["mask_path"]), read_labelme_mask(root / row["labelme"], BUILTIN["oocyte-anatomy"])
        for c in range(1, OOCYTE_ANATOMY.num_classes):
            a, b = exact == c, raster == c
            assert a.any() == b.any()
            if a.any():
                assert (a & b).sum() / (a | b).sum() >= 0.9, (row["labelme"], c)


def test_phantom_json_records_the_true_polar_body_per_case(small_phantom):
    cases = json.loads((small_phantom.parent / "phantom.json").read_text())["cases"]
    anatomy = load_manifest(small_phantom, labelset="oocyte-anatomy")
    assert [c["case"] for c in cases] == ["case01", "case02", "case03", "case04"]
    for c in cases:
        for path in anatomy[anatomy.case == c["case"]].mask_path:
            assert (read_mask(path) == POLAR_BODY).any() == c["polar_body"]


def test_icsi_readers_and_the_check_ignore_the_anatomy_rows(small_phantom):
    rows = load_rows([small_phantom], "icsi")
    assert set(rows.labelset) == {"icsi"} and len(rows) == 8
    report = check_dataset(small_phantom)
    assert report.ok, [str(p) for p in report.problems]  # a still shared by two label sets is no duplicate
    px = report.class_pixels[report.class_pixels.labelset == "oocyte-anatomy"]
    assert list(px["class"]) == list(OOCYTE_ANATOMY.classes) and px.pixels.sum() == 480 * 640 * 8


def test_no_anatomy_switch(tmp_path):
    args = ["phantom", "--out", str(tmp_path), "--cases", "1", "--seconds", "0.5", "--fps", "4",
            "--inclusion-images", "0", "--formats", "", "--no-anatomy"]
    assert main(args) == 0
    df = pd.read_csv(tmp_path / "manifest.csv")
    assert set(df.labelset) == {"icsi"} and not (tmp_path / "anatomy").exists()
    assert json.loads((tmp_path / "phantom.json").read_text())["config"]["anatomy"] is False
