"""Manifests written by the ingestion commands load with load_manifest and keep the fixed columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oocyteseg.data.ingest_folder import ingest_folder
from oocyteseg.data.manifest import MANIFEST_COLUMNS, REQUIRED_COLUMNS, load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.io.images import write_image, write_mask


def test_ingested_manifest_has_the_fixed_columns_and_resolves_paths(tmp_path):
    write_image(tmp_path / "i" / "c1" / "x.png", np.zeros((6, 8, 3), np.uint8))
    write_mask(tmp_path / "m" / "x.png", np.ones((6, 8), np.uint8))
    ingest_folder(tmp_path / "i", tmp_path / "m", "inclusions", tmp_path / "o")
    raw = pd.read_csv(tmp_path / "o" / "manifest.csv")
    assert list(raw.columns) == MANIFEST_COLUMNS and set(REQUIRED_COLUMNS) <= set(MANIFEST_COLUMNS)
    df = load_manifest(tmp_path / "o")
    assert df.case.tolist() == ["c1"] and df.frame_index.tolist() == [-1] and np.isnan(df.time_s[0])
    assert (tmp_path / "o" / "images" / "c1" / "x.png").samefile(df.image_path[0])
    assert load_manifest(tmp_path / "o", labelset="inclusions").shape[0] == 1
    with pytest.raises(OocytesegError, match="no rows with labelset"):
        load_manifest(tmp_path / "o", labelset="icsi")


def test_manifest_errors(tmp_path):
    with pytest.raises(OocytesegError, match="not found"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.csv").write_text("case,image\nA,x.png\n")
    with pytest.raises(OocytesegError, match="lacks column"):
        load_manifest(tmp_path)
