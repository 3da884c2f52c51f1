"""Validate a data set (manifest) and summarise it the way Shimotsu et al. Table 1 does.

Checks every row: image and mask readable, image size = mask size = the width/height columns, mask
values within the label set, and duplicates (the same file or the same pixels listed twice, which
across cases would leak test images into training).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.data.labels import manifest_classes
from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import BUILTIN, ClassesFile, as_classes
from oocyteseg.io.images import read_image, read_mask
from oocyteseg.progress import ProgressFn as Progress



@dataclass
class CheckReport:
    """Problems found (one OocytesegError each) and the summary tables."""

    manifest: Path
    rows: int
    problems: list[OocytesegError] = field(default_factory=list)
    per_case: pd.DataFrame | None = None  # labelset, case, images, annotated, videos
    class_pixels: pd.DataFrame | None = None  # labelset, class, pixels, fraction, images
    sizes: pd.DataFrame | None = None  # labelset, width, height, images

    @property
    def ok(self) -> bool:
        return not self.problems


def _digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_dataset(path: str | os.PathLike, classes: ClassesFile | str | os.PathLike | None = None,
                  progress: Progress | None = None) -> CheckReport:
    """Check every row of a manifest (or a folder holding manifest.csv) and build the summary tables."""
    df = load_manifest(path)
    fixed = as_classes(classes) if classes is not None else None
    report = CheckReport(manifest=Path(df.attrs["manifest_path"]), rows=len(df))
    pixels: dict[tuple[str, int], list[int]] = {}
    seen_file: dict[tuple[str, str], int] = {}  # (labelset, real path) -> row
    seen_pixels: dict[tuple[str, str], tuple[int, str]] = {}  # (labelset, sha256) -> (row, case)
    known: dict[str, ClassesFile | None] = {}
    for i, row in df.iterrows():
        labels = fixed or known.setdefault(str(row["labelset"]), manifest_classes(df, str(row["labelset"])))
        try:
            if labels is None:
                raise OocytesegError(f"row {i}: unknown labelset {row['labelset']!r}", report.manifest,
                                     f"use one of {', '.join(BUILTIN)}, keep the data set's classes.yaml beside "
                                     "the manifest, or pass --classes")
            _check_row(i, row, labels, report, pixels, seen_file, seen_pixels)
        except OocytesegError as exc:
            if str(exc) not in {str(p) for p in report.problems}:  # an image shared by two label sets: once
                report.problems.append(exc)
        if progress:
            progress("rows", i + 1, len(df))
    _summaries(df, report, pixels, fixed, known)
    return report


def _check_row(i: int, row: pd.Series, labels: ClassesFile, report: CheckReport, pixels: dict,
               seen_file: dict, seen_pixels: dict) -> None:
    image_path = row["image_path"]
    # one image may be annotated in several label sets (the phantom's icsi + oocyte-anatomy rows):
    # duplicates count within a label set only
    real = (str(row["labelset"]), os.path.realpath(image_path))
    listed_twice = real in seen_file
    if listed_twice:
        report.problems.append(OocytesegError(f"image listed twice (rows {seen_file[real]} and {i})", image_path,
                                              "remove the duplicate row"))
    seen_file[real] = i
    image = read_image(image_path)
    digest = (str(row["labelset"]), _digest(image_path))
    if digest in seen_pixels and not listed_twice:
        j, other_case = seen_pixels[digest]
        where = "in another case (would leak between train and test)" if other_case != row["case"] else "twice"
        report.problems.append(OocytesegError(f"same image file content as row {j}, {where}", image_path,
                                              "remove one copy"))
    seen_pixels.setdefault(digest, (i, str(row["case"])))
    h, w = image.shape[:2]
    if int(row["width"]) > 0 and (int(row["width"]), int(row["height"])) != (w, h):
        report.problems.append(OocytesegError(f"image is {w}x{h} but the manifest says {row['width']}x{row['height']}",
                                              image_path, "fix the width/height columns or re-ingest"))
    if not row["mask_path"]:
        return
    mask = read_mask(row["mask_path"])
    if mask.shape != (h, w):
        raise OocytesegError(f"mask is {mask.shape[1]}x{mask.shape[0]} but its image is {w}x{h}", row["mask_path"],
                             "regenerate the mask at the image's size")
    counts = np.bincount(mask.ravel(), minlength=labels.num_classes)
    if len(counts) > labels.num_classes:
        bad = [int(v) for v in np.nonzero(counts[labels.num_classes:])[0] + labels.num_classes]
        raise OocytesegError(f"mask has value(s) {bad[:5]} outside the {labels.num_classes} classes of "
                             f"{labels.name!r}", row["mask_path"], "fix the mask or the labelset column")
    for c, n in enumerate(counts):
        pixels.setdefault((labels.name, c), [0, 0])
        pixels[(labels.name, c)][0] += int(n)
        pixels[(labels.name, c)][1] += int(n > 0)


def _summaries(df: pd.DataFrame, report: CheckReport, pixels: dict, fixed: ClassesFile | None,
               known: dict[str, ClassesFile | None]) -> None:
    df = df.assign(annotated=df["mask_path"] != "")
    report.per_case = (df.groupby(["labelset", "case"], sort=True)
                       .agg(images=("image", "size"), annotated=("annotated", "sum"),
                            videos=("video", lambda v: int(v[v.astype(str) != ""].nunique())))
                       .reset_index())
    rows = []
    for (labelset, c), (n, images) in sorted(pixels.items()):
        labels = fixed or known[labelset]
        total = sum(v[0] for (ls, _), v in pixels.items() if ls == labelset)
        rows.append({"labelset": labelset, "class": labels.names[c], "pixels": n,
                     "fraction": n / total if total else 0.0, "images": images})
    report.class_pixels = pd.DataFrame(rows, columns=["labelset", "class", "pixels", "fraction", "images"])
    report.sizes = (df.groupby(["labelset", "width", "height"]).size().rename("images").reset_index())
