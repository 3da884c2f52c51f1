"""Micrographs (still images) through `oocyteseg analyze`: masks, overlays, LabelMe files and one features
row per image, with the same resume and bad-input rules as videos.

Layout of OUT/stills/: `<case>/<stem>_mask.png` (index mask, written last: its presence marks the image as
done), `<case>/<stem>_overlay.png`, `<case>/<stem>.json` (LabelMe, pointing at the original image, for
correction in LabelMe), `features.csv` (one row per image: case, image, the features of the model's label
set — f1-f4 for ICSI frames, inclusion count and sizes for the inclusions set — and QC reasons),
`failed.csv` (one line per unreadable image) and `summary.json`. The case comes from the folder layout as
in `oocyteseg frames` (IMAGES/<case>/...), or `case=` for one image.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from oocyteseg.data.ingest_common import case_from_layout, safe_name
from oocyteseg.data.ingest_folder import IMAGE_SUFFIXES
from oocyteseg.data.ingest_frames import find_video_files
from oocyteseg.io.video import VIDEO_SUFFIXES
from oocyteseg.data.preprocess import size_warning
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_json, write_table
from oocyteseg.io.images import read_image, read_mask, write_image, write_mask
from oocyteseg.io.labelme import write_labelme
from oocyteseg.morphometry.table import features_table
from oocyteseg.progress import ProgressFn as Progress
from oocyteseg.reports.overlay import overlay_mask

STILLS_DIR = "stills"



@dataclass
class StillsOutcome:
    out: Path
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    table: Path | None = None
    warnings: list[str] = field(default_factory=list)  # one line per distinct distortion (see size_warning)


def find_images(inputs: Sequence[str | os.PathLike], exclude: str | os.PathLike | None = None
                ) -> list[tuple[Path, Path | None]]:
    """(image, root) for image files named directly (root None) or found recursively in named folders that
    hold no video (a folder with videos is a video folder: its PNGs are usually annotated stills and masks);
    the output folder `exclude` is not searched. Missing inputs are left to the caller."""
    skip = Path(exclude).resolve() if exclude is not None else None
    found: dict[Path, Path | None] = {}
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            root = p.resolve()
            if has_videos([root]):
                continue
            for f in sorted(root.rglob("*")):
                if (f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")
                        and not (skip is not None and f.resolve().is_relative_to(skip))):
                    found.setdefault(f.resolve(), root)
        elif p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            found.setdefault(p.resolve(), None)
    return sorted(found.items())


def has_videos(inputs: Sequence[str | os.PathLike], exclude: str | os.PathLike | None = None) -> bool:
    """Whether the inputs name or contain (recursively) at least one video file (`exclude` not searched)."""
    named = [p for p in map(Path, inputs) if p.is_dir() or (p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)]
    try:
        return bool(find_video_files(named, exclude))
    except OocytesegError:  # nothing found
        return False


def analyze_images(images: Sequence[tuple[Path, Path | None]], predictor, out: str | os.PathLike, *,
                   case: str | None = None, overwrite: bool = False, pixel_size_um: float | None = None,
                   model_info: dict | None = None, progress: Progress | None = None) -> StillsOutcome:
    """Segment and measure each image; finished images are skipped unless `overwrite` (see module docs)."""
    out = Path(out) / STILLS_DIR
    if case and len(images) != 1:
        raise OocytesegError(f"--case names the case of one input, but {len(images)} images were found",
                             fix="drop --case and use the IMAGES/<case>/... folder layout")
    labels = predictor.labels
    pixel_size_um = pixel_size_um if pixel_size_um is not None else labels.pixel_size_um
    outcome = StillsOutcome(out)
    rows: list[tuple[dict, object]] = []
    for n, (path, root) in enumerate(images):
        c = case_from_layout(path, root, case)
        folder = out / safe_name(c)
        mask_path = folder / f"{safe_name(path.stem)}_mask.png"
        try:
            if mask_path.is_file() and not overwrite:
                mask = read_mask(mask_path)
                outcome.skipped.append(path)
            else:
                image = read_image(path)
                warning = size_warning(image.shape[:2], predictor.spec) if hasattr(predictor, "spec") else None
                if warning and not any(w.endswith(warning) for w in outcome.warnings):
                    outcome.warnings.append(f"{path} (and others of its size): {warning}")
                mask = predictor.predict([image])[0]
                write_image(folder / f"{safe_name(path.stem)}_overlay.png", overlay_mask(image, mask, labels))
                write_labelme(folder / f"{safe_name(path.stem)}.json", mask, labels,
                              image_path=os.path.relpath(path, folder), overwrite=True)
                write_mask(mask_path, mask, list(labels.colors), overwrite=True)  # last: marks the image done
                outcome.done.append(path)
            rows.append(({"case": c, "video": "", "labelset": labels.name, "source": str(path)}, mask))
        except OocytesegError as exc:
            outcome.failed.append((path, exc.one_line()))
        if progress:
            progress("images", n + 1, len(images))
    table = features_table(rows, pixel_size_um, labels)
    table.insert(1, "image", [meta["source"] for meta, _ in rows])
    out.mkdir(parents=True, exist_ok=True)
    outcome.table = write_table(table, out / "features.csv")
    write_table(pd.DataFrame([{"image": str(p), "error": e} for p, e in outcome.failed],
                             columns=["image", "error"]), out / "failed.csv")
    write_json(out / "summary.json", {"images": len(images), "analysed": len(outcome.done),
                                      "skipped": len(outcome.skipped), "failed": len(outcome.failed),
                                      "labelset": labels.name, "model": model_info or {}})
    return outcome
