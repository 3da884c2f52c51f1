"""Case splits: no case on both sides of any fold, every case tested once, splits.json reused."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oocyteseg.data.splits import k_fold, leave_one_case_out, load_splits, make_splits, reuse_or_make_splits
from oocyteseg.errors import OocytesegError

case_lists = st.lists(st.text("abcdefgh0123456789", min_size=1, max_size=6), min_size=2, max_size=25).filter(
    lambda cs: len(set(cs)) >= 2)


def _check(splits, cases):
    unique = set(cases)
    tested = []
    for f in splits.folds:
        assert not set(f.train) & set(f.test), f"fold {f.index} leaks"
        assert set(f.train) | set(f.test) == unique
        assert f.test
        tested += f.test
    assert sorted(tested) == sorted(unique)  # every case is a test case exactly once


@settings(max_examples=60, deadline=None)
@given(case_lists)
def test_leave_one_case_out_never_leaks(cases):
    # duplicates stand for the many images of one case
    s = leave_one_case_out(cases + cases[:3])
    assert len(s.folds) == len(set(cases))
    assert all(len(f.test) == 1 for f in s.folds)
    _check(s, cases)


@settings(max_examples=60, deadline=None)
@given(case_lists, st.integers(2, 25), st.integers(0, 10_000))
def test_k_fold_never_leaks_and_is_seeded(cases, k, seed):
    k = min(k, len(set(cases)))
    s = k_fold(cases, k, seed)
    _check(s, cases)
    sizes = [len(f.test) for f in s.folds]
    assert max(sizes) - min(sizes) <= 1
    assert k_fold(list(reversed(cases)), k, seed) == s  # same cases, same seed: same folds


def test_bad_requests():
    with pytest.raises(OocytesegError):
        leave_one_case_out(["a", "a"])
    with pytest.raises(OocytesegError):
        k_fold(["a", "b", "c"], 4)
    with pytest.raises(OocytesegError):
        make_splits(["a", "b"], "five")
    assert make_splits(["a", "b"], "loco").method == "leave-one-case-out"


def test_splits_json_is_written_then_reused(tmp_path):
    path = tmp_path / "splits.json"
    first = reuse_or_make_splits(path, ["c1", "c2", "c3", "c4"], 2, seed=1)
    assert path.is_file()
    # a re-run with another seed reads the file instead of drawing new folds
    again = reuse_or_make_splits(path, ["c4", "c3", "c2", "c1"], 2, seed=99)
    assert again == first == load_splits(path)


def test_splits_json_mismatch_is_an_error(tmp_path):
    path = tmp_path / "splits.json"
    reuse_or_make_splits(path, ["c1", "c2", "c3"], "leave-one-case-out")
    with pytest.raises(OocytesegError, match="does not match the data"):
        reuse_or_make_splits(path, ["c1", "c2", "c3", "c4"], "leave-one-case-out")
    with pytest.raises(OocytesegError, match="was made with"):
        reuse_or_make_splits(path, ["c1", "c2", "c3"], 3)
    redrawn = reuse_or_make_splits(path, ["c1", "c2", "c3", "c4"], "leave-one-case-out", overwrite=True)
    assert len(redrawn.folds) == 4


def test_a_leaking_splits_file_is_rejected(tmp_path):
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"method": "k-fold", "k": 2, "seed": 0, "cases": ["a", "b"],
                                "folds": [{"index": 0, "train": ["a", "b"], "test": ["b"]}]}))
    with pytest.raises(OocytesegError, match="both train and test"):
        load_splits(path)
    path.write_text("{not json")
    with pytest.raises(OocytesegError, match="not a valid splits file"):
        load_splits(path)
