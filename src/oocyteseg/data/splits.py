"""Case-level splits for cross-validation, made once (seeded) and persisted as `splits.json`.

Every split is by case: all images of a case go to the same side, so no case is ever in both the
training and the test set of a fold. A re-run reads the existing `splits.json` and checks that it
still describes the data (same cases, same method) instead of drawing new folds (nnU-Net's rule).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_json

LOCO = "leave-one-case-out"


@dataclass(frozen=True)
class Fold:
    """One fold: the cases to train on and the cases to test on (disjoint)."""

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]


@dataclass(frozen=True)
class Splits:
    """All folds of one cross-validation, with how they were made."""

    method: str  # "leave-one-case-out" or "k-fold"
    k: int
    seed: int
    cases: tuple[str, ...]
    folds: tuple[Fold, ...]

    def to_json(self) -> dict:
        d = asdict(self)
        d["cases"] = list(self.cases)
        d["folds"] = [{"index": f.index, "train": list(f.train), "test": list(f.test)} for f in self.folds]
        return d


def _unique_cases(cases: Iterable[str]) -> list[str]:
    unique = sorted({str(c) for c in cases})
    if len(unique) < 2:
        raise OocytesegError(f"cross-validation needs at least 2 cases, the data has {len(unique)}",
                             fix="add cases to the manifest (one case per video / patient)")
    return unique


def leave_one_case_out(cases: Iterable[str]) -> Splits:
    """One fold per case: that case is the test set, all the others are the training set."""
    unique = _unique_cases(cases)
    folds = tuple(Fold(i, tuple(c for c in unique if c != test), (test,)) for i, test in enumerate(unique))
    return Splits(LOCO, len(unique), 0, tuple(unique), folds)


def k_fold(cases: Iterable[str], k: int, seed: int = 0) -> Splits:
    """K folds of cases, shuffled with `seed`; fold sizes differ by at most one case."""
    unique = _unique_cases(cases)
    if not 2 <= k <= len(unique):
        raise OocytesegError(f"--folds {k} is impossible with {len(unique)} cases",
                             fix=f"choose 2 <= K <= {len(unique)} or leave-one-case-out")
    order = np.random.default_rng(seed).permutation(len(unique))
    groups = np.array_split(order, k)
    folds = []
    for i, group in enumerate(groups):
        test = sorted(unique[j] for j in group)
        folds.append(Fold(i, tuple(c for c in unique if c not in test), tuple(test)))
    return Splits("k-fold", k, seed, tuple(unique), tuple(folds))


def make_splits(cases: Iterable[str], folds: str | int, seed: int = 0) -> Splits:
    """Splits by `folds` = "leave-one-case-out" (or "loco") or a number of folds K."""
    if isinstance(folds, str) and folds.lower() in (LOCO, "loco"):
        return leave_one_case_out(cases)
    try:
        k = int(folds)
    except (TypeError, ValueError):
        raise OocytesegError(f"unknown --folds {folds!r}", fix="use leave-one-case-out or a number K >= 2") from None
    return k_fold(cases, k, seed)


def save_splits(splits: Splits, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write splits.json (atomically; never replaces an existing file unless overwrite)."""
    return write_json(path, splits.to_json(), overwrite=overwrite)


def load_splits(path: str | os.PathLike) -> Splits:
    """Read and check a splits.json (disjoint train/test in every fold, every case tested once at most)."""
    path = Path(path)
    fix = "delete it to draw new folds, or restore the original file"
    try:
        d = json.loads(path.read_text())
        folds = tuple(Fold(int(f["index"]), tuple(map(str, f["train"])), tuple(map(str, f["test"])))
                      for f in d["folds"])
        splits = Splits(str(d["method"]), int(d["k"]), int(d["seed"]), tuple(map(str, d["cases"])), folds)
    except FileNotFoundError:
        raise OocytesegError("splits file not found", path, "run `oocyteseg cv` to create it") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise OocytesegError(f"not a valid splits file ({exc.__class__.__name__}: {exc})", path, fix) from None
    for f in splits.folds:
        both = set(f.train) & set(f.test)
        if both:
            raise OocytesegError(f"fold {f.index} has case(s) {sorted(both)} in both train and test", path, fix)
        unknown = (set(f.train) | set(f.test)) - set(splits.cases)
        if unknown:
            raise OocytesegError(f"fold {f.index} names unknown case(s) {sorted(unknown)}", path, fix)
    return splits


def reuse_or_make_splits(path: str | os.PathLike, cases: Iterable[str], folds: str | int, seed: int = 0,
                         overwrite: bool = False) -> Splits:
    """Read `path` if it exists (and check it matches the data and request), else make and write it."""
    path = Path(path)
    wanted = make_splits(cases, folds, seed)
    if path.exists() and not overwrite:
        found = load_splits(path)
        if set(found.cases) != set(wanted.cases):
            extra, missing = sorted(set(found.cases) - set(wanted.cases)), sorted(set(wanted.cases) - set(found.cases))
            raise OocytesegError(f"splits.json does not match the data's cases (only in splits.json: {extra}; "
                                 f"only in the data: {missing})", path,
                                 "use the data set the splits were made for, or another --out")
        if (found.method, found.k) != (wanted.method, wanted.k):
            raise OocytesegError(f"splits.json was made with {found.method} K={found.k}, but {wanted.method} "
                                 f"K={wanted.k} was asked for", path, "use the same --folds, or another --out")
        return found
    save_splits(wanted, path, overwrite=True)
    return wanted
