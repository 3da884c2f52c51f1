"""`oocyteseg dataset folder`: pairing by stem, index / binary / colour masks, bad pairs listed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from oocyteseg.cli.main import main
from oocyteseg.data.ingest_folder import ingest_folder, mask_to_index
from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import BUILTIN
from oocyteseg.io.images import read_mask, write_image, write_mask

ICSI, INCL = BUILTIN["icsi"], BUILTIN["inclusions"]


def _index_mask(h=24, w=32) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[4:20, 4:28] = 1
    m[8:14, 10:16] = 2
    m[10:12, 20:32] = 3
    return m


def test_index_colour_and_binary_masks_decode_to_indices(tmp_path):
    m = _index_mask()
    write_mask(tmp_path / "idx.png", m)  # L mode, index values
    write_mask(tmp_path / "pal.png", m, ICSI.colors)  # palette PNG
    colours = np.array(ICSI.colors, np.uint8)[m]
    Image.fromarray(colours).save(tmp_path / "rgb.png")
    Image.fromarray(colours).convert("RGBA").save(tmp_path / "rgba.png")
    for name in ("idx", "pal", "rgb", "rgba"):
        assert np.array_equal(mask_to_index(tmp_path / f"{name}.png", ICSI), m), name
    binary = (m > 0).astype(np.uint8) * 255
    Image.fromarray(binary).save(tmp_path / "bin.png")
    assert np.array_equal(mask_to_index(tmp_path / "bin.png", INCL), (m > 0).astype(np.uint8))
    Image.fromarray(np.dstack([binary] * 3)).save(tmp_path / "bin3.png")
    assert np.array_equal(mask_to_index(tmp_path / "bin3.png", INCL), (m > 0).astype(np.uint8))
    noisy = colours.copy()
    noisy[0, 0] = (1, 2, 3)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    with pytest.raises(OocytesegError, match=r"\[1, 2, 3\]"):
        mask_to_index(tmp_path / "noisy.png", ICSI)
    (tmp_path / "junk.png").write_text("no")
    with pytest.raises(OocytesegError, match="cannot read"):
        mask_to_index(tmp_path / "junk.png", ICSI)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_folder_pairs_by_stem_and_lists_bad_pairs(tmp_path, capsys):
    img, msk = tmp_path / "images", tmp_path / "masks"
    rgb = np.full((24, 32, 3), 120, np.uint8)
    m = _index_mask()
    for name in ("a", "b", "c"):
        write_image(img / f"{name}.png", rgb)
    write_image(img / "sub" / "d.jpg", rgb)
    write_mask(msk / "a_mask.png", m)
    Image.fromarray(np.array(ICSI.colors, np.uint8)[m]).save(msk / "b_mask.png")
    write_mask(msk / "c_mask.png", m[:20])  # size mismatch
    write_mask(msk / "d_mask.png", m)
    write_mask(msk / "orphan_mask.png", m)  # no image
    write_image(img / "a.tif", rgb)  # duplicate name a
    before = _hashes(tmp_path)
    out = tmp_path / "out"
    code = main(["dataset", "folder", str(img), str(msk), "--classes", "icsi", "--mask-suffix", "_mask",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    for needle in ("c_mask.png", "orphan_mask.png", "duplicate image name 'a'"):
        assert needle in err, needle
    df = load_manifest(out)
    assert sorted(df.case) == ["a", "b", "sub"] and (df.source == "folder").all() and (df.labelset == "icsi").all()
    for _, row in df.iterrows():
        assert np.array_equal(read_mask(row["mask_path"]), m)
        assert (out / "previews" / Path(row["image"]).relative_to("images")).is_file()
    assert len(pd.read_csv(out / "failed.csv")) == 3
    assert _hashes(tmp_path / "images") == {k: v for k, v in before.items() if "/images/" in k}
    assert main(["dataset", "folder", str(img), str(msk), "--classes", "icsi", "--out", str(out)]) == 2


def test_folder_case_option(tmp_path):
    write_image(tmp_path / "i" / "x.png", np.zeros((8, 8, 3), np.uint8))
    write_mask(tmp_path / "m" / "x.png", np.ones((8, 8), np.uint8))
    result = ingest_folder(tmp_path / "i", tmp_path / "m", "inclusions", tmp_path / "o", case="P1")
    assert result.ok and load_manifest(tmp_path / "o").case.tolist() == ["P1"]
