"""`oocyteseg labelme` and `labelme export`: phantom round trip, folder runs with bad files, outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oocyteseg.cli.main import main
from oocyteseg.data.ingest_labelme import ingest_labelme
from oocyteseg.data.manifest import load_manifest
from oocyteseg.io.images import read_image, read_mask, write_image
from oocyteseg.io.labelme import read_labelme_mask

CLASSES = str(Path(__file__).parents[2] / "configs" / "classes-icsi.yaml")


def _hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_phantom_labelme_files_come_back_as_the_exact_masks(small_phantom, tmp_path):
    root = small_phantom.parent
    before = _hashes(root / "icsi")
    out = tmp_path / "data"
    assert main(["labelme", str(root / "icsi"), "--classes", CLASSES, "--out", str(out)]) == 0
    got = load_manifest(out)
    phantom = pd.read_csv(small_phantom, dtype={"case": str})
    phantom = phantom[phantom.labelset == "icsi"]
    assert len(got) == len(phantom) and set(got.case) == set(phantom.case)
    for _, row in got.iterrows():
        exact_masks = np.load(root / f"icsi/{row['case']}/{row['case']}_masks.npz")["masks"]
        exact = exact_masks[row["frame_index"]]  # the frame index comes from the file name
        mask = read_mask(row["mask_path"])
        for c in (1, 2, 3):
            if exact.__eq__(c).any() or (mask == c).any():
                assert _iou(exact == c, mask == c) >= 0.97, (row["image"], c)
        still = phantom[(phantom.case == row["case"]) & (phantom.frame_index == row["frame_index"])].iloc[0]
        assert np.array_equal(read_image(row["image_path"]), read_image(root / still["image"]))
        assert (out / row["labelme"]).resolve() == (root / still["labelme"]).resolve()
        assert (out / "previews" / Path(row["image"]).relative_to("images")).is_file()
    assert (got.source == "labelme").all() and (got.skipped_shapes == 0).all()
    assert _hashes(root / "icsi") == before
    # outputs are not overwritten without --overwrite
    assert main(["labelme", str(root / "icsi"), "--classes", CLASSES, "--out", str(out)]) == 2


def _shape(label, pts, kind="polygon"):
    return {"label": label, "points": pts, "group_id": None, "shape_type": kind, "flags": {}}


def _annotated(folder: Path, name: str, shapes: list, size=(40, 60), image_size=None, **doc) -> Path:
    h, w = image_size or size
    write_image(folder / f"{name}.png", np.full((h, w, 3), 90, np.uint8))
    body = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": f"{name}.png", "imageData": None,
            "imageHeight": size[0], "imageWidth": size[1], **doc}
    (folder / f"{name}.json").write_text(json.dumps(body))
    return folder / f"{name}.json"


SQUARE = [[5, 5], [30, 5], [30, 30], [5, 30]]


def test_folder_run_finishes_good_files_and_lists_bad_ones(tmp_path, capsys):
    src = tmp_path / "ann"
    (src / "c1").mkdir(parents=True)
    (src / "c2" / "sub").mkdir(parents=True)
    _annotated(src / "c1", "good", [_shape("SER", SQUARE)], flags={"reviewed": True})
    _annotated(src / "c1", "lines", [_shape("oocyte", SQUARE), _shape("needle", [[0, 0], [9, 9]], "line"),
                                     _shape("oocyte", [[50, 30], [90, 30], [90, 60]])])
    _annotated(src / "c1", "unknown", [_shape("nucleus", SQUARE)])
    _annotated(src / "c1", "size", [_shape("oocyte", SQUARE)], image_size=(41, 60))
    (src / "c1" / "broken.json").write_text('{"shapes": [')
    (src / "c1" / "noimage.json").write_text(json.dumps({"shapes": [], "imagePath": "gone.png", "imageHeight": 4,
                                                          "imageWidth": 4}))
    _annotated(src / "c2", "good", [_shape("oocyte", SQUARE)])
    _annotated(src / "c2" / "sub", "good", [_shape("oocyte", SQUARE)])  # same case, same name
    before = _hashes(src)
    out = tmp_path / "out"
    assert main(["labelme", str(src), "--classes", CLASSES, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    for name in ("unknown.json", "size.json", "broken.json", "noimage.json", "duplicate name"):
        assert name in err, name
    assert "'line'" in err and "past the image border" in err  # reported, not silently dropped
    df = pd.read_csv(out / "manifest.csv", dtype={"case": str})
    assert sorted((c, Path(p).stem) for c, p in zip(df.case, df.image)) == [("c1", "good"), ("c1", "lines"),
                                                                           ("c2", "good")]
    lines = df[df.image.str.contains("lines")].iloc[0]
    assert lines.skipped_shapes == 1 and lines.clipped_shapes == 1 and "line" in lines.notes
    assert df[df.image.str.contains("c1/good")].iloc[0]["flags"] == "reviewed"
    assert (read_mask(out / df[df.image.str.contains("c1/good")].iloc[0]["mask"]) == 2).sum() == 26 * 26
    failed = pd.read_csv(out / "failed.csv")
    assert len(failed) == 5 and failed.fix.str.len().min() > 0
    assert _hashes(src) == before
    # --strict turns the skipped/clipped shapes into a failure of that file
    result = ingest_labelme([src / "c1"], CLASSES, tmp_path / "strict", strict=True)
    assert result.rows == 1 and any("lines.json" in str(e) for e in result.errors)


def test_case_option_image_data_and_single_files(tmp_path):
    src = tmp_path / "flat"
    src.mkdir()
    path = _annotated(src, "x_f00012_t0000.500", [_shape("needle", SQUARE, "rectangle")])
    result = ingest_labelme([path], "icsi", tmp_path / "o", case="P7")
    df = load_manifest(tmp_path / "o")
    assert result.ok and df.case.tolist() == ["P7"] and df.frame_index.tolist() == [12]
    assert df.time_s.tolist() == [0.5]
    assert (read_mask(df.mask_path[0]) == 3).sum() == 26 * 26


def test_missing_classes_option_and_missing_folder(tmp_path):
    assert main(["labelme", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert main(["labelme", str(tmp_path / "nope"), "--classes", CLASSES, "--out", str(tmp_path / "o")]) == 2


def test_export_masks_to_labelme_and_back(small_phantom, tmp_path):
    root = small_phantom.parent
    out = tmp_path / "lm"
    assert main(["labelme", "export", str(small_phantom), "--out", str(out)]) == 0
    table = pd.read_csv(out / "labelme.csv", dtype={"case": str})
    manifest = load_manifest(small_phantom)
    assert len(table) == (manifest.mask_path != "").sum()
    for _, row in table.sample(4, random_state=0).iterrows():
        doc = json.loads((out / row["labelme"]).read_text())
        assert (out / row["labelme"]).with_suffix(".png").is_file() and doc["imagePath"].endswith(".png")
        source = manifest[manifest.mask_path.str.endswith(Path(row["labelme"]).stem + ".png")].iloc[0]
        back = read_labelme_mask(out / row["labelme"], source["labelset"])  # icsi, inclusions or oocyte-anatomy
        exact = read_mask(source["mask_path"])
        for c in range(1, int(exact.max()) + 1):
            assert _iou(exact == c, back == c) >= 0.95, (row["labelme"], c)
    # masks folder + images folder, embedded image data
    masks = root / "inclusions" / "masks"
    assert main(["labelme", "export", str(masks), "--images", str(root / "inclusions" / "images"), "--classes",
                 "inclusions", "--embed-images", "--out", str(tmp_path / "emb")]) == 0
    doc = json.loads(next((tmp_path / "emb").rglob("*.json")).read_text())
    assert doc["imageData"] and not list((tmp_path / "emb").rglob("*.png"))
    assert main(["labelme", "export", str(masks), "--classes", "inclusions", "--out", str(tmp_path / "x")]) == 2
    assert main(["labelme", "export", str(small_phantom), "--out", str(out)]) == 2  # no --overwrite


@pytest.mark.parametrize("bad", ["mask", "size"])
def test_export_reports_bad_masks(tmp_path, bad):
    img, msk = tmp_path / "images", tmp_path / "masks"
    write_image(img / "a.png", np.zeros((20, 30, 3), np.uint8))
    from oocyteseg.io.images import write_mask
    write_mask(msk / "a.png", np.full((20, 30) if bad == "mask" else (21, 30), 7 if bad == "mask" else 1, np.uint8))
    assert main(["labelme", "export", str(msk), "--images", str(img), "--classes", "icsi",
                 "--out", str(tmp_path / "o")]) == 1
    assert len(pd.read_csv(tmp_path / "o" / "failed.csv")) == 1


NEEDLE_PAST_RIGHT = [[40.3, 18.6], [95.2, 21.1], [95.7, 24.9], [40.6, 22.8]]


def test_shapes_past_the_border_are_reported_once_for_the_folder(tmp_path, capsys):
    src = tmp_path / "ann"
    (src / "c1").mkdir(parents=True)
    for i in range(3):
        _annotated(src / "c1", f"past{i}", [_shape("oocyte", SQUARE), _shape("needle", NEEDLE_PAST_RIGHT)])
    _annotated(src / "c1", "inside", [_shape("oocyte", SQUARE)])
    out = tmp_path / "out"
    assert main(["labelme", str(src), "--classes", CLASSES, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("past the image border") == 1 and "3 of 4 LabelMe files" in err and "past0" not in err
    df = pd.read_csv(out / "manifest.csv", dtype={"case": str}, keep_default_na=False)
    assert sorted(df.clipped_shapes) == [0, 1, 1, 1] and df.notes.str.contains("border").sum() == 3
    mask = read_mask(out / df[df.image.str.contains("past0")].iloc[0]["mask"])
    assert (mask[:, 59] == 3).sum() >= 3  # the needle reaches the last column


def test_json_files_that_are_not_labelme_are_skipped_with_one_note(tmp_path, capsys):
    src = tmp_path / "ann"
    (src / "c1").mkdir(parents=True)
    _annotated(src / "c1", "good", [_shape("oocyte", SQUARE)])
    (src / "c1" / "frames.json").write_text(json.dumps({"frames": [1, 2, 3]}))
    (src / "config.json").write_text(json.dumps({"fps": 1}))
    (src / "c1" / "list.json").write_text("[1, 2]")
    (src / "c1" / "bad_shapes.json").write_text(json.dumps({"shapes": {"label": "oocyte"}, "imagePath": "good.png"}))
    out = tmp_path / "out"
    assert main(["labelme", str(src), "--classes", CLASSES, "--out", str(out)]) == 1  # bad_shapes.json only
    err = capsys.readouterr().err
    note = [line for line in err.splitlines() if "not LabelMe files" in line]
    assert len(note) == 1 and "skipped 3 JSON" in note[0]
    assert all(name in note[0] for name in ("c1/frames.json", "config.json", "c1/list.json"))
    failed = pd.read_csv(out / "failed.csv")
    assert [Path(p).name for p in failed.path] == ["bad_shapes.json"] and "shapes" in failed.message[0]
    assert len(pd.read_csv(out / "manifest.csv")) == 1
    # a non-LabelMe file named on the command line is a failure, not a skip
    result = ingest_labelme([src / "config.json"], CLASSES, tmp_path / "direct")
    assert result.rows == 0 and len(result.errors) == 1 and "not a LabelMe file" in str(result.errors[0])
