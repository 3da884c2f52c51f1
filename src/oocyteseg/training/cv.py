"""Cross-validation training: one run per fold of a persisted case split, each resumable.

Layout of a CV folder: `splits.json`, then `fold-00/`, `fold-01/`, ... each a normal run folder
(see `oocyteseg.training.engine`) plus `done.json` once its training has finished. A fold with
`done.json` is never trained again. The evaluation on each fold's test cases and the per-case table
are made by `oocyteseg.evaluation.crossval`, which calls this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from lightning.pytorch.utilities import rank_zero_only

from oocyteseg.data.splits import Fold, Splits, reuse_or_make_splits
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_json
from oocyteseg.training.config import TrainConfig, with_updates
from oocyteseg.training.data import load_rows
from oocyteseg.training.engine import train

DONE = "done.json"


def fold_dir(out_dir: str | os.PathLike, index: int) -> Path:
    """Folder of fold `index` (fold-00, fold-01, ...)."""
    return Path(out_dir) / f"fold-{index:02d}"


def data_cases(config: TrainConfig) -> list[str]:
    """The cases cross-validation splits: every annotated case of data.manifests."""
    if config.data.val_manifests:
        raise OocytesegError("cross-validation splits the cases of data.manifests; data.val_manifests must be unset",
                             fix="remove data.val_manifests (list every data set under data.manifests)")
    return sorted(set(load_rows(config.data.manifests, config.data.label_set().name)["case"]))


def prepare_splits(config: TrainConfig, folds: str | int, out_dir: str | os.PathLike, overwrite: bool = False) -> Splits:
    """Read out_dir/splits.json if present (checked against the data), else draw the folds and write it."""
    return reuse_or_make_splits(Path(out_dir) / "splits.json", data_cases(config), folds, seed=config.seed,
                                overwrite=overwrite)


def holdout_cases(config: TrainConfig, fold: Fold) -> list[str]:
    """The fold's validation cases when `data.val_holdout` > 0: drawn from its training cases (seeded by the
    config's seed and the fold index), so model selection never looks at the test case."""
    import random

    n = config.data.val_holdout
    if n >= len(fold.train):
        raise OocytesegError(f"data.val_holdout={n} leaves no training case in fold {fold.index} "
                             f"({len(fold.train)} training cases)", fix="use a smaller data.val_holdout")
    return sorted(random.Random(config.seed * 1000 + fold.index).sample(sorted(fold.train), n))


def fold_model(config: TrainConfig, fold_path: Path) -> Path:
    """The model a fold is tested with: the best by held-out validation with `data.val_holdout`, else the last
    (the fold validates on its test case, so choosing by validation would look at the test data)."""
    return fold_path / ("model.pt" if config.data.val_holdout else "model-last.pt")


def fold_config(config: TrainConfig, fold: Fold) -> TrainConfig:
    """The fold's config: train on its training cases, validate on its test cases (or on held-out training
    cases with `data.val_holdout`)."""
    if config.data.val_holdout:
        val = holdout_cases(config, fold)
        train = [c for c in fold.train if c not in val]
    else:
        val, train = list(fold.test), list(fold.train)
    return with_updates(config, {"data.train_cases": train, "data.val_cases": val,
                                 "data.split_file": None, "data.fold": None})


def train_fold(config: TrainConfig, fold: Fold, out_dir: str | os.PathLike, *, resume: bool = False,
               overwrite: bool = False, progress: bool = True) -> Path:
    """Train one fold unless it is done; returns the fold folder.

    An unfinished fold (a folder without done.json) is continued with `resume`, restarted with
    `overwrite`, and otherwise an error says which of the two to choose.
    """
    d = fold_dir(out_dir, fold.index)
    if (d / DONE).is_file() and not overwrite:
        return d
    started = (d / "checkpoints" / "last.ckpt").is_file()
    rank0 = rank_zero_only.rank == 0  # DDP: only rank 0 checks and writes the fold's files
    if rank0 and d.exists() and any(d.iterdir()) and not (resume and started) and not overwrite:
        raise OocytesegError(f"fold {fold.index} was started but did not finish", d,
                             "pass --resume to continue it or --overwrite to restart it")
    result = train(fold_config(config, fold), d, overwrite=overwrite or not started,
                   resume=resume and started and not overwrite,
                   progress=progress)
    if result.interrupted:
        raise OocytesegError(f"fold {fold.index} was interrupted", d, "re-run with --resume")
    if not rank0:
        return d
    write_json(d / DONE, {"fold": fold.index, "train": list(fold.train), "test": list(fold.test),
                          "steps": result.steps, "best_val_miou": result.best_val_miou,
                          "seconds": round(result.seconds, 1)})
    return d


def train_folds(config: TrainConfig, folds: str | int, out_dir: str | os.PathLike, *, resume: bool = False,
                overwrite: bool = False, progress: bool = True,
                on_fold: Callable[[Fold, Path], None] | None = None) -> Splits:
    """Make or reuse the splits, then train every fold not yet done (calling on_fold after each)."""
    splits = prepare_splits(config, folds, out_dir, overwrite)
    for fold in splits.folds:
        d = train_fold(config, fold, out_dir, resume=resume, overwrite=overwrite, progress=progress)
        if on_fold:
            on_fold(fold, d)
    return splits
