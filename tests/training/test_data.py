"""Choosing training / validation rows from a DataConfig (cases, split files, several manifests)."""

from __future__ import annotations

import pytest

from oocyteseg.data.splits import leave_one_case_out, save_splits
from oocyteseg.errors import OocytesegError
from oocyteseg.training.config import DataConfig
from oocyteseg.training.data import split_rows


def test_default_is_every_other_case(tiny_phantom):
    train, val = split_rows(DataConfig(manifests=[tiny_phantom], val_cases=["case02"]))
    assert sorted(set(train["case"])) == ["case01", "case03"] and set(val["case"]) == {"case02"}
    train, val = split_rows(DataConfig(manifests=[tiny_phantom]))
    assert len(train) == 6 and val.empty


def test_split_file_fold(tiny_phantom, tmp_path):
    path = save_splits(leave_one_case_out(["case01", "case02", "case03"]), tmp_path / "splits.json")
    train, val = split_rows(DataConfig(manifests=[tiny_phantom], split_file=path, fold=2))
    assert set(val["case"]) == {"case03"} and set(train["case"]) == {"case01", "case02"}
    with pytest.raises(OocytesegError, match="no fold 7"):
        split_rows(DataConfig(manifests=[tiny_phantom], split_file=path, fold=7))
    with pytest.raises(ValueError):
        DataConfig(manifests=[tiny_phantom], split_file=path)  # a split file needs its fold


def test_a_case_on_both_sides_is_an_error(tiny_phantom):
    with pytest.raises(OocytesegError, match="both train and val"):
        split_rows(DataConfig(manifests=[tiny_phantom], train_cases=["case01", "case02"], val_cases=["case02"]))


def test_separate_validation_manifest_and_labelsets(tiny_phantom):
    train, val = split_rows(DataConfig(manifests=[tiny_phantom], val_manifests=[tiny_phantom], labelset="inclusions"))
    assert len(train) == 4 and len(val) == 4 and set(train["case"]) == {"incl001", "incl002", "incl003", "incl004"}
