"""The data-set manifest: one table (CSV or Parquet) that every later command reads.

Columns: case, video, frame_index, time_s, image, mask, source, labelset, width, height (+ any extra
columns, e.g. labelme or split). Paths are relative to the manifest's folder (absolute paths work too).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from oocyteseg.errors import OocytesegError

REQUIRED_COLUMNS = ["case", "image", "mask", "labelset"]
DEFAULTS = {"video": "", "frame_index": -1, "time_s": float("nan"), "source": "", "width": -1, "height": -1}


def load_manifest(path: str | os.PathLike, labelset: str | None = None) -> pd.DataFrame:
    """Read and validate a manifest; adds absolute `image_path` and `mask_path` columns.

    Args:
        path: manifest.csv / .parquet, or a folder that contains manifest.csv.
        labelset: keep only rows of this label set (e.g. "icsi" or "inclusions").
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.csv"
    if not path.is_file():
        raise OocytesegError("manifest not found", path, "create one with `oocyteseg phantom` or the ingestion commands")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"case": str},
                                                                                    keep_default_na=False,
                                                                                    na_values={"time_s": [""]})
    except Exception as exc:  # pandas raises many kinds for a broken file
        raise OocytesegError(f"cannot read manifest ({exc.__class__.__name__})", path,
                             "check that it is a CSV/Parquet table") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise OocytesegError(f"manifest lacks column(s) {', '.join(missing)}", path,
                             f"a manifest needs at least {', '.join(REQUIRED_COLUMNS)}")
    for col, default in DEFAULTS.items():
        if col not in df.columns:
            df[col] = default
    df["case"] = df["case"].astype(str)
    if labelset is not None:
        df = df[df["labelset"] == labelset].reset_index(drop=True)
        if df.empty:
            raise OocytesegError(f"manifest has no rows with labelset {labelset!r}", path,
                                 "check the labelset column or pick another data set")
    root = path.parent
    df["image_path"] = [str(_resolve(root, p)) for p in df["image"]]
    df["mask_path"] = [str(_resolve(root, p)) if isinstance(p, str) and p else "" for p in df["mask"]]
    df.attrs["manifest_path"] = str(path)
    return df


def _resolve(root: Path, p: str) -> Path:
    q = Path(p)
    return q if q.is_absolute() else root / q
