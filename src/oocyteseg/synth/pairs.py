"""(label map, image) training pairs for the GAN: from a manifest or an images/ + masks/ folder pair.

Only training cases are ever used: a manifest's `split` column keeps rows with split == "train",
and an explicit case list or splits.json restricts the cases further (test cases are refused).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from oocyteseg.errors import OocytesegError
from oocyteseg.io.images import read_image, read_mask

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class Pair:
    """One training example: image and index-mask paths and the case they belong to."""

    image: Path
    mask: Path
    case: str


def read_split_cases(path: str | os.PathLike, fold: int | None = None) -> tuple[set[str], set[str]]:
    """(train cases, test cases) from a splits.json.

    Accepted shapes: {"train": [...], "test": [...]} (other keys such as "val" are ignored), or
    {"folds": [{"train": [...], "test": [...]}, ...]} / a list of such folds, picked by `fold`.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise OocytesegError(f"cannot read splits ({exc.__class__.__name__})", path, "pass a valid splits.json") from exc
    folds = data.get("folds") if isinstance(data, dict) else data
    if isinstance(folds, list):
        if fold is None or not 0 <= fold < len(folds):
            raise OocytesegError(f"splits file has {len(folds)} folds", path, f"pass --fold 0..{len(folds) - 1}")
        data = folds[fold]
    if not isinstance(data, dict) or not isinstance(data.get("train"), list):
        raise OocytesegError("splits file has no 'train' list of cases", path,
                             'write it as {"train": [cases], "test": [cases]}')
    return {str(c) for c in data["train"]}, {str(c) for c in data.get("test", [])}


def find_pairs(data: str | os.PathLike, labelset: str, cases: set[str] | None = None,
               exclude_cases: set[str] | None = None) -> list[Pair]:
    """Training pairs from a manifest CSV (or a folder holding manifest.csv) or an images/ + masks/ folder.

    Args:
        data: manifest.csv, a folder with manifest.csv, or a folder with images/ and masks/ (matched by stem).
        labelset: keep manifest rows of this label set only.
        cases: if given, keep only these cases (all must exist).
        exclude_cases: cases never to use (e.g. the test cases of a split); overlap with `cases` is an error.
    """
    data = Path(data)
    exclude_cases = exclude_cases or set()
    if cases is not None and cases & exclude_cases:
        raise OocytesegError(f"cases {sorted(cases & exclude_cases)} are both training and test cases",
                             fix="never train the GAN on test cases; fix --cases or the splits file")
    if data.is_file() or (data / "manifest.csv").is_file():
        pairs = _pairs_from_manifest(data if data.is_file() else data / "manifest.csv", labelset)
    elif (data / "images").is_dir() and (data / "masks").is_dir():
        pairs = _pairs_from_folders(data)
    else:
        raise OocytesegError("no manifest.csv and no images/ + masks/ folders here", data,
                             "pass a manifest.csv or a folder holding images/ and masks/ with matching names")
    if cases is not None:
        missing = cases - {p.case for p in pairs}
        if missing:
            raise OocytesegError(f"cases {sorted(missing)} have no training pairs", data, "check --cases / the splits file")
        pairs = [p for p in pairs if p.case in cases]
    pairs = [p for p in pairs if p.case not in exclude_cases]
    if not pairs:
        raise OocytesegError("no training pairs left after filtering", data, "check the manifest, --cases and splits")
    return pairs


def _pairs_from_manifest(path: Path, labelset: str) -> list[Pair]:
    try:
        df = pd.read_csv(path, dtype={"case": str, "mask": str, "image": str, "split": str}, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise OocytesegError(f"cannot read manifest ({exc.__class__.__name__})", path, "pass a valid manifest.csv") from exc
    missing = {"case", "image", "mask", "labelset"} - set(df.columns)
    if missing:
        raise OocytesegError(f"manifest lacks columns {sorted(missing)}", path, "rebuild it with `oocyteseg dataset`")
    if "split" in df.columns:
        df = df[df["split"] == "train"]
    df = df[df["labelset"] == labelset]
    unlabelled = df[df["mask"].str.strip() == ""]
    if len(unlabelled):
        raise OocytesegError(f"{len(unlabelled)} {labelset} rows have no mask (first: {unlabelled['image'].iloc[0]})",
                             path, "annotate them, or drop them from the manifest used for GAN training")
    root = path.parent
    return [Pair(root / r.image, root / r.mask, str(r.case)) for r in df.itertuples(index=False)]


def _pairs_from_folders(root: Path) -> list[Pair]:
    images = {p.stem: p for p in sorted((root / "images").iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES}
    masks = {p.stem: p for p in sorted((root / "masks").iterdir()) if p.suffix.lower() == ".png"}
    unmatched = sorted(set(images) ^ set(masks))
    if unmatched:
        raise OocytesegError(f"{len(unmatched)} files have no partner (first: {unmatched[0]})", root,
                             "give every images/NAME.* a masks/NAME.png and vice versa")
    return [Pair(images[k], masks[k], k) for k in sorted(images)]


class PairDataset(Dataset):
    """Reads pairs lazily, resizes them to `size` (mask: nearest) and returns (mask long HxW, image 3xHxW in [-1,1])."""

    def __init__(self, pairs: list[Pair], size: tuple[int, int], num_classes: int, flip: bool = False):
        self.pairs, self.size, self.num_classes, self.flip = pairs, size, num_classes, flip

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(mask uint8 HxW, image uint8 HxWx3) at the training size, validated."""
        pair = self.pairs[index]
        image, mask = read_image(pair.image), read_mask(pair.mask)
        if image.shape[:2] != mask.shape:
            raise OocytesegError(f"mask is {mask.shape[0]}x{mask.shape[1]} but its image is "
                                 f"{image.shape[0]}x{image.shape[1]}", pair.mask, "re-export the mask at the image's size")
        if int(mask.max()) >= self.num_classes:
            raise OocytesegError(f"mask has class index {int(mask.max())}, the label set has {self.num_classes} classes",
                                 pair.mask, "check the manifest's labelset column or the mask file")
        height, width = self.size
        if mask.shape != (height, width):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
        return mask, image

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        mask, image = self.load(index)
        m = torch.from_numpy(mask.astype(np.int64))
        x = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 127.5 - 1.0
        if self.flip:
            if torch.rand(()) < 0.5:
                m, x = m.flip(-1), x.flip(-1)
            if torch.rand(()) < 0.5:
                m, x = m.flip(-2), x.flip(-2)
        return m, x
