"""Cross-validation with a held-out validation case: model selection never sees the test case."""

from __future__ import annotations

import json

import pytest

from oocyteseg.data.splits import Fold
from oocyteseg.errors import OocytesegError
from oocyteseg.training.config import config_from_dict
from oocyteseg.training.cv import fold_config, fold_model, holdout_cases, train_fold
from tests.training.conftest import tiny_config_dict


def _fold(i=0):
    return Fold(index=i, train=("case01", "case02", "case04", "case05"), test=("case03",))


def test_holdout_is_a_training_case_and_never_the_test_case(tiny_phantom):
    cfg = config_from_dict(tiny_config_dict(tiny_phantom, data={**tiny_config_dict(tiny_phantom)["data"],
                                                                "val_cases": None, "val_holdout": 1}))
    for i in range(6):
        fc = fold_config(cfg, _fold(i))
        assert len(fc.data.val_cases) == 1 and fc.data.val_cases[0] in _fold(i).train
        assert "case03" not in fc.data.val_cases and "case03" not in fc.data.train_cases
        assert set(fc.data.train_cases) | set(fc.data.val_cases) == set(_fold(i).train)
        assert not set(fc.data.train_cases) & set(fc.data.val_cases)
        assert holdout_cases(cfg, _fold(i)) == fc.data.val_cases  # seeded: the same draw every time
    assert {fold_config(cfg, _fold(i)).data.val_cases[0] for i in range(6)} != {"case01"}  # varies by fold
    assert fold_model(cfg, tiny_phantom.parent).name == "model.pt"
    plain = config_from_dict(tiny_config_dict(tiny_phantom))
    assert fold_config(plain, _fold()).data.val_cases == ["case03"]
    assert fold_model(plain, tiny_phantom.parent).name == "model-last.pt"


def test_holdout_that_leaves_nothing_to_train_is_an_error(tiny_phantom):
    raw = tiny_config_dict(tiny_phantom)
    cfg = config_from_dict({**raw, "data": {**raw["data"], "val_cases": None, "val_holdout": 4}})
    with pytest.raises(OocytesegError, match="val_holdout"):
        fold_config(cfg, _fold())


def test_early_stopping_stops_a_fold(tiny_phantom, tmp_path):
    raw = tiny_config_dict(tiny_phantom)
    raw["data"] = {**raw["data"], "val_cases": None, "val_holdout": 1}
    raw["optim"] = {**raw["optim"], "max_steps": 40, "lr": 1e-9}  # nothing improves
    raw["trainer"] = {**raw["trainer"], "early_stopping_patience": 2, "precise_bn_batches": 0}
    cfg = config_from_dict(raw)
    fold = Fold(index=0, train=("case01", "case02"), test=("case03",))
    d = train_fold(cfg, fold, tmp_path / "cv", progress=False)
    done = json.loads((d / "done.json").read_text())
    assert done["steps"] < 40  # stopped early
    data = json.loads((d / "data.json").read_text())
    assert data["val_cases"] != ["case03"] and "case03" not in data["train_cases"]
