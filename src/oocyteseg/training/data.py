"""From a DataConfig to training / validation rows and data loaders (one or several manifests)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd
from torch.utils.data import DataLoader

from oocyteseg.data.augment import build_augment
from oocyteseg.data.dataset import SegmentationDataset
from oocyteseg.data.manifest import load_manifest
from oocyteseg.data.preprocess import InputSpec
from oocyteseg.data.splits import load_splits
from oocyteseg.errors import OocytesegError
from oocyteseg.training.config import DataConfig, TrainConfig


def load_rows(manifests: Sequence[str | os.PathLike], labelset: str) -> pd.DataFrame:
    """Concatenate the annotated rows of several manifests of one label set."""
    frames = []
    for path in manifests:
        df = load_manifest(path, labelset=labelset)
        df = df[df["mask_path"] != ""]
        if df.empty:
            raise OocytesegError(f"manifest has no annotated {labelset} rows", path, "annotate images or pick another one")
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _select(rows: pd.DataFrame, cases: Sequence[str], what: str, source: object) -> pd.DataFrame:
    missing = sorted(set(cases) - set(rows["case"]))
    if missing:
        raise OocytesegError(f"{what} case(s) {missing} are not in the data (cases: {sorted(set(rows['case']))})",
                             str(source), f"fix data.{what}_cases or the split file")
    return rows[rows["case"].isin(list(cases))].reset_index(drop=True)


def split_rows(cfg: DataConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train rows, val rows) of a data config; val may be empty (then there is no validation)."""
    name = cfg.label_set().name
    train_all = load_rows(cfg.manifests, name)
    val_all = load_rows(cfg.val_manifests, name) if cfg.val_manifests else train_all
    train_cases, val_cases = cfg.train_cases, cfg.val_cases
    if cfg.split_file is not None:
        splits = load_splits(cfg.split_file)
        folds = {f.index: f for f in splits.folds}
        if cfg.fold not in folds:
            raise OocytesegError(f"no fold {cfg.fold} in the split file (folds: {sorted(folds)})", cfg.split_file,
                                 "choose an existing data.fold")
        train_cases = train_cases or list(folds[cfg.fold].train)
        val_cases = val_cases or list(folds[cfg.fold].test)
    if val_cases is None:
        val_cases = sorted(set(val_all["case"])) if cfg.val_manifests else []
    if train_cases is None:
        train_cases = sorted(set(train_all["case"]) - (set(val_cases) if not cfg.val_manifests else set()))
    train = _select(train_all, train_cases, "train", cfg.manifests[0])
    val = _select(val_all, val_cases, "val", (cfg.val_manifests or cfg.manifests)[0])
    if train.empty:
        raise OocytesegError("no training images left after choosing cases", cfg.manifests[0],
                             "check data.train_cases / data.val_cases")
    same_source = not cfg.val_manifests
    overlap = set(train["case"]) & set(val["case"]) if same_source else set()
    if overlap:
        raise OocytesegError(f"case(s) {sorted(overlap)} are in both train and val", cfg.manifests[0],
                             "a case must be on one side only")
    return train, val


def input_spec(cfg: TrainConfig) -> InputSpec:
    """The model's input spec: the configured size and the model's input statistics (see the registry)."""
    from oocyteseg.models import get_model_entry

    entry = get_model_entry(cfg.model.name)
    return InputSpec(tuple(cfg.data.size), entry.mean, entry.std, cfg.data.resize)


def frame_sizes(rows: pd.DataFrame) -> list[list[int]]:
    """Distinct native (height, width) of the rows' images, most frequent first (the manifest's width /
    height columns; the image is read where they are not recorded)."""
    from oocyteseg.io.images import read_image

    sizes = []
    for row in rows.itertuples():
        h, w = int(getattr(row, "height", -1)), int(getattr(row, "width", -1))
        if h <= 0 or w <= 0:
            h, w = read_image(row.image_path).shape[:2]
        sizes.append((h, w))
    return [list(s) for s in pd.Series(sizes).value_counts(sort=True).index] if sizes else []


def build_loaders(cfg: TrainConfig) -> tuple[DataLoader, DataLoader | None, pd.DataFrame, pd.DataFrame]:
    """Training loader (shuffled, augmented, drops the last partial batch) and validation loader (or None)."""
    train_rows, val_rows = split_rows(cfg.data)
    num_classes = cfg.data.label_set().num_classes
    spec = input_spec(cfg)
    train_ds = SegmentationDataset(train_rows, spec, transform=build_augment(cfg.augment), num_classes=num_classes,
                                   cache=cfg.data.cache, crop=cfg.data.crop, crop_focus=cfg.data.crop_focus)
    kw = {"num_workers": cfg.num_workers, "persistent_workers": cfg.num_workers > 0}
    train_dl = DataLoader(train_ds, batch_size=cfg.optim.batch_size, shuffle=True,
                          drop_last=len(train_ds) >= cfg.optim.batch_size, **kw)
    val_dl = None
    if len(val_rows):
        val_ds = SegmentationDataset(val_rows, spec, num_classes=num_classes, cache=cfg.data.cache)
        val_dl = DataLoader(val_ds, batch_size=cfg.optim.batch_size, shuffle=False, **kw)
    return train_dl, val_dl, train_rows, val_rows
