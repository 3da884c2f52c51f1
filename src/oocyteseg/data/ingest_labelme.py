"""LabelMe JSON annotations -> index masks, colour previews and a manifest.

Layout of the output folder::

    OUT/manifest.csv                 one row per annotated image (see oocyteseg.data.manifest)
    OUT/images/<case>/<stem>.png     the annotated image (from imageData or imagePath)
    OUT/masks/<case>/<stem>.png      index mask (palette PNG; values are class indices)
    OUT/previews/<case>/<stem>.png   image with the classes painted in their colours
    OUT/failed.csv                   the files that could not be used (only when some failed)

Case id: --case, else the first folder under the input folder (DIR/<case>/.../x.json), else the stem.
Shapes that are skipped (line, point, polygon < 3 points, hole without group) or clipped are listed
per file in the manifest (`skipped_shapes`, `clipped_shapes`, `notes`) and printed; with `strict`
such a file fails instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oocyteseg.data.ingest_common import (IngestResult, Progress, case_from_layout, collect_files, color_preview,
                                          parse_frame_name, relative_to, safe_name, write_errors)
from oocyteseg.data.manifest import MANIFEST_COLUMNS
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable, write_table
from oocyteseg.io.classes_file import ClassesFile, as_classes
from oocyteseg.io.images import write_image, write_mask
from oocyteseg.io.labelme import read_labelme

LABELME_COLUMNS = MANIFEST_COLUMNS + ["labelme", "skipped_shapes", "clipped_shapes", "flags", "notes"]


def ingest_labelme(inputs: Sequence[str | os.PathLike], classes: ClassesFile | str | os.PathLike,
                   out: str | os.PathLike, *, case: str | None = None, overwrite: bool = False,
                   strict: bool = False, progress: Progress | None = None) -> IngestResult:
    """Convert LabelMe files (or folders of them) into images, index masks, previews and OUT/manifest.csv.

    Good files are written even when others fail; failures come back in `errors` and OUT/failed.csv.
    """
    classes = as_classes(classes)
    out = Path(out)
    manifest = check_writable(out / "manifest.csv", overwrite)
    files = collect_files(inputs, (".json",), "LabelMe JSON")
    rows: list[dict] = []
    result = IngestResult(table=None, rows=0)
    seen: dict[tuple[str, str], Path] = {}
    for n, (path, root) in enumerate(files):
        case_id = case_from_layout(path, root, case)
        key = (case_id, path.stem)
        try:
            if key in seen:
                raise OocytesegError(f"duplicate name {path.stem!r} in case {case_id!r} (also {seen[key]})", path,
                                     "rename one of the files, or give the cases their own folders")
            seen[key] = path
            rows.append(_convert(path, case_id, classes, out, overwrite, strict, result.warnings))
        except OocytesegError as exc:
            result.errors.append(exc)
        if progress:
            progress("LabelMe files", n + 1, len(files))
    if rows:
        write_table(pd.DataFrame(rows, columns=LABELME_COLUMNS), manifest, overwrite=overwrite)
        result.table, result.rows = manifest, len(rows)
    write_errors(result.errors, out / "failed.csv")
    return result


def _convert(path: Path, case_id: str, classes: ClassesFile, out: Path, overwrite: bool, strict: bool,
             warnings: list[str]) -> dict:
    ann, image = read_labelme(path, classes)
    if strict and ann.notes:
        raise OocytesegError(f"{len(ann.notes)} shape(s) skipped or clipped, first: {ann.notes[0]}", path,
                             "fix the shapes in LabelMe, or run without --strict to accept them")
    warnings += [f"{path}: {note}" for note in ann.notes]
    rel = f"{safe_name(case_id)}/{path.stem}.png"
    targets = {k: out / k / rel for k in ("images", "masks", "previews")}
    for target in targets.values():
        check_writable(target, overwrite)
    write_image(targets["images"], image, overwrite)
    write_mask(targets["masks"], ann.mask, classes.colors, overwrite)
    write_image(targets["previews"], color_preview(image, ann.mask, classes.colors), overwrite)
    frame_index, time_s = parse_frame_name(path.stem)
    h, w = ann.mask.shape
    return {"case": case_id, "video": "", "frame_index": frame_index, "time_s": time_s,
            "image": f"images/{rel}", "mask": f"masks/{rel}", "source": "labelme", "labelset": classes.name,
            "width": w, "height": h, "labelme": relative_to(path.resolve(), out.resolve()),
            "skipped_shapes": len(ann.skipped), "clipped_shapes": len(ann.clipped),
            "flags": ",".join(sorted(str(k) for k, v in ann.flags.items() if v)), "notes": "; ".join(ann.notes)}
