"""LabelMe JSON annotations -> index masks, colour previews and a manifest.

Layout of the output folder::

    OUT/manifest.csv                 one row per annotated image (see oocyteseg.data.manifest)
    OUT/images/<case>/<stem>.png     the annotated image (from imageData or imagePath)
    OUT/masks/<case>/<stem>.png      index mask (palette PNG; values are class indices)
    OUT/previews/<case>/<stem>.png   image with the classes painted in their colours
    OUT/failed.csv                   the files that could not be used (only when some failed)

Case id: --case, else the first folder under the input folder (DIR/<case>/.../x.json), else the stem.
Shapes that are skipped (line, point, polygon < 3 points, hole without group) or past the image border
(the part inside is kept, exactly) are listed per file in the manifest (`skipped_shapes`, `clipped_shapes`,
`notes`); skipped shapes are printed per file, shapes past the border in one line for the run. With
`strict` such a file fails instead. JSON files found in a folder that are no LabelMe files (no `shapes`
key: a config, a frames list) are skipped with one note for the run; a file named directly fails.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from oocyteseg.data.ingest_common import (IngestResult, Progress, case_from_layout, collect_files, color_preview,
                                          finish_mask_ingest, parse_frame_name, relative_to, safe_name)
from oocyteseg.data.manifest import MANIFEST_COLUMNS
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable
from oocyteseg.io.classes_file import ClassesFile, as_classes
from oocyteseg.io.images import write_image, write_mask
from oocyteseg.io.labelme import LabelmeAnnotation, NotLabelmeError, read_labelme

LABELME_COLUMNS = MANIFEST_COLUMNS + ["labelme", "skipped_shapes", "clipped_shapes", "flags", "notes"]


def ingest_labelme(inputs: Sequence[str | os.PathLike], classes: ClassesFile | str | os.PathLike,
                   out: str | os.PathLike, *, case: str | None = None, overwrite: bool = False,
                   strict: bool = False, progress: Progress | None = None) -> IngestResult:
    """Convert LabelMe files (or folders of them) into images, index masks, previews and OUT/manifest.csv.

    Good files are written even when others fail; failures come back in `errors` and OUT/failed.csv.
    JSON files in a folder that are no LabelMe files (no `shapes` key) are skipped with one note.
    """
    classes = as_classes(classes)
    out = Path(out)
    manifest = check_writable(out / "manifest.csv", overwrite)
    files = collect_files(inputs, (".json",), "LabelMe JSON")
    rows: list[dict] = []
    result = IngestResult(table=None, rows=0)
    seen: dict[tuple[str, str], Path] = {}
    not_labelme: list[str] = []
    past_border = other_json = 0
    for n, (path, root) in enumerate(files):
        case_id = case_from_layout(path, root, case)
        try:
            ann, image = read_labelme(path, classes)
            if strict and ann.notes:
                raise OocytesegError(f"{len(ann.notes)} shape(s) skipped or clipped, first: {ann.notes[0]}", path,
                                     "fix the shapes in LabelMe, or run without --strict to accept them")
            key = (case_id, path.stem)
            if key in seen:
                raise OocytesegError(f"duplicate name {path.stem!r} in case {case_id!r} (also {seen[key]})", path,
                                     "rename one of the files, or give the cases their own folders")
            seen[key] = path
            rows.append(_write(path, case_id, ann, image, classes, out, overwrite))
            result.warnings += [f"{path}: {note}" for note in ann.skipped]
            past_border += bool(ann.clipped)
        except NotLabelmeError as exc:
            other_json += 1
            if root is None:  # named on the command line: the user meant it as a LabelMe file
                result.errors.append(exc)
            else:
                not_labelme.append(relative_to(path, root))
        except OocytesegError as exc:
            result.errors.append(exc)
        if progress:
            progress("LabelMe files", n + 1, len(files))
    result.warnings += _run_notes(past_border, len(files) - other_json, not_labelme)
    return finish_mask_ingest(result, rows, LABELME_COLUMNS, manifest, classes, out, overwrite)


def _run_notes(past_border: int, labelme_files: int, not_labelme: list[str], listed: int = 5) -> list[str]:
    """One line per run for shapes past the border (details per file in the manifest) and skipped JSON files."""
    notes = []
    if past_border:
        notes.append(f"{past_border} of {labelme_files} LabelMe files had shapes past the image border "
                     "(kept the parts inside; per shape in the manifest's notes column)")
    if not_labelme:
        names = ", ".join(not_labelme[:listed]) + (f" and {len(not_labelme) - listed} more"
                                                   if len(not_labelme) > listed else "")
        notes.append(f"skipped {len(not_labelme)} JSON file(s) that are not LabelMe files (no 'shapes' key): {names}")
    return notes


def _write(path: Path, case_id: str, ann: LabelmeAnnotation, image: np.ndarray, classes: ClassesFile, out: Path,
           overwrite: bool) -> dict:
    """Write the image, index mask and preview of one LabelMe file; its manifest row."""
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
