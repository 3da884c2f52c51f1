"""Features of many masks as one table: from (meta, mask) pairs, a manifest, or a folder of PNG masks."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import LabelSet
from oocyteseg.data.labels import manifest_labels
from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable, write_table
from oocyteseg.io.classes_file import resolve_labels
from oocyteseg.io.images import read_mask
from oocyteseg.morphometry.measure import mask_features
from oocyteseg.morphometry.temporal import flag_jumps
from oocyteseg.progress import ProgressFn as Progress

META_COLUMNS = ["case", "video", "time_s", "frame_index"]
_META_DEFAULTS = {"case": "", "video": "", "time_s": math.nan, "frame_index": -1}
_EXTRA_META = ["labelset", "source", "mask"]
# phantom / frame-export file names: <case>_f<frame>[_t<seconds>]
_STEM = re.compile(r"^(?P<case>.+?)_f(?P<frame>\d+)(?:_t(?P<time>\d+(?:\.\d+)?))?$")



def features_table(masks: Iterable[tuple[dict, np.ndarray | None]], pixel_size_um: float | None = None,
                   labels: LabelSet | None = None) -> pd.DataFrame:
    """One row per mask: case, video, time_s, frame_index, the features its label set's roles allow, reason.

    The label set is `labels`, else `meta["labels"]` (a LabelSet), else the built-in named by
    `meta["labelset"]` (default icsi); `oocyteseg.morphometry.measure.mask_features` picks the features.
    A mask given as None (a manifest row without annotation) gives a row with reason `no_mask`.
    """
    rows = []
    for meta, mask in masks:
        row = {k: meta.get(k, d) for k, d in _META_DEFAULTS.items()}
        row.update({k: meta[k] for k in _EXTRA_META if k in meta})
        if mask is None:
            row["reason"] = "no_mask"
        else:
            row_labels = labels or meta.get("labels") or resolve_labels(meta.get("labelset") or "icsi")
            row.update(mask_features(mask, row_labels, pixel_size_um))
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=META_COLUMNS + ["f1", "f2", "f3", "f4", "reason"])
    first = [c for c in META_COLUMNS + ["f1", "f2", "f3", "f4"] if c in df.columns]
    rest = [c for c in df.columns if c not in first and c != "reason"]
    df = df[first + rest + ["reason"]]
    df["reason"] = df["reason"].fillna("")
    df["case"] = df["case"].astype(str)
    df["video"] = df["video"].fillna("").astype(str)
    df["frame_index"] = df["frame_index"].fillna(-1).astype(int)
    return df


def count_masks(source: str | os.PathLike) -> int:
    """Number of items `iter_masks(source)` will yield (for progress bars)."""
    source = Path(source)
    if _is_manifest(source):
        return len(load_manifest(source))
    return len(_folder_pngs(source))


def iter_masks(source: str | os.PathLike, labels: LabelSet | str | os.PathLike | None = None
               ) -> Iterator[tuple[dict, np.ndarray | None]]:
    """(meta, mask) pairs from a manifest (.csv/.parquet, or a folder holding manifest.csv) or a mask folder.

    `labels` (a LabelSet, built-in name or classes file) is the label set of a mask folder (default
    icsi) and, for a manifest, of its rows of that label set (the others keep the classes file written
    beside the manifest, or their built-in). `meta["labels"]` carries each row's LabelSet.
    In a folder of index PNGs (searched recursively) the case is the file's path without suffix, or,
    for names `<case>_f<frame>[_t<seconds>]`, the parsed case, frame index and time.
    """
    source = Path(source)
    given = resolve_labels(labels) if labels is not None else None
    if _is_manifest(source):
        df = load_manifest(source)
        known: dict[str, LabelSet] = {}
        for row in df.to_dict("records"):
            name = str(row["labelset"])
            if name not in known:
                known[name] = given if given is not None and given.name == name else manifest_labels(df, name)
            meta = {k: row.get(k, d) for k, d in _META_DEFAULTS.items()}
            meta.update(labelset=name, labels=known[name], source=row.get("source", ""), mask=row.get("mask", ""))
            yield meta, (read_mask(row["mask_path"]) if row["mask_path"] else None)
        return
    given = given or resolve_labels("icsi")
    for path in _folder_pngs(source):
        rel = path.relative_to(source).with_suffix("")
        meta = dict(_META_DEFAULTS, case=rel.as_posix(), labelset=given.name, labels=given, source="folder",
                    mask=str(path))
        m = _STEM.match(rel.name)
        if m:
            prefix = rel.parent.as_posix()
            meta["case"] = m["case"] if prefix in ("", ".") else f"{prefix}/{m['case']}"
            meta["frame_index"] = int(m["frame"])
            meta["time_s"] = float(m["time"]) if m["time"] else math.nan
        yield meta, read_mask(path)


def features_from_source(source: str | os.PathLike, pixel_size_um: float | None = None,
                         labels: LabelSet | str | os.PathLike | None = None,
                         progress: Progress | None = None) -> pd.DataFrame:
    """`features_table` over `iter_masks(source, labels)` with the temporal QC (`temporal.flag_jumps`: `qc`,
    `qc_jump`): the table `oocyteseg features` writes. Progress is reported as ("features", done, total)."""
    total = count_masks(source)

    def tracked() -> Iterator[tuple[dict, np.ndarray | None]]:
        for i, item in enumerate(iter_masks(source, labels), 1):
            yield item
            if progress:
                progress("features", i, total)

    return flag_jumps(features_table(tracked(), pixel_size_um))


def write_features(df: pd.DataFrame, out: str | os.PathLike, overwrite: bool = False) -> list[Path]:
    """Write the table as both CSV and Parquet (`out` names one of them); returns both paths."""
    out = Path(out)
    if out.suffix not in (".csv", ".parquet"):
        raise OocytesegError(f"unknown table format {out.suffix or '(none)'}", out, "name the output .csv or .parquet")
    paths = [out.with_suffix(".csv"), out.with_suffix(".parquet")]
    for p in paths:
        check_writable(p, overwrite)
    for p in paths:
        write_table(df, p, overwrite=True)
    return paths


def read_features(path: str | os.PathLike) -> pd.DataFrame:
    """Read a features table written by `write_features` (CSV or Parquet)."""
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("features table not found", path, "create it with `oocyteseg features`")
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype={"case": str, "video": str, "reason": str}, keep_default_na=False,
                             na_values=[""])
            for col in ("video", "reason"):
                if col in df.columns:
                    df[col] = df[col].fillna("")
    except Exception as exc:  # pandas raises many kinds for a broken file
        raise OocytesegError(f"cannot read features table ({exc.__class__.__name__})", path,
                             "pass a .csv or .parquet written by `oocyteseg features`") from exc
    missing = [c for c in ["case", "reason"] if c not in df.columns]
    if missing:
        raise OocytesegError(f"features table lacks column(s) {', '.join(missing)}", path,
                             "pass a table written by `oocyteseg features`")
    return df


def _is_manifest(source: Path) -> bool:
    return source.suffix in (".csv", ".parquet") or (source.is_dir() and (source / "manifest.csv").is_file())


def _folder_pngs(source: Path) -> list[Path]:
    if not source.is_dir():
        raise OocytesegError("not a manifest or a folder of masks", source,
                             "pass manifest.csv, a folder holding manifest.csv, or a folder of index PNG masks")
    paths = sorted(source.rglob("*.png"))
    if not paths:
        raise OocytesegError("no PNG masks found", source, "pass a folder of index PNG masks or a manifest")
    return paths
