"""Index masks -> LabelMe JSON polygons (the reverse path), for correcting masks in LabelMe.

From a manifest (every row with a mask) or from a folder of mask PNGs plus a folder of images
matched by file stem. Layout::

    OUT/<case>/<stem>.json   LabelMe 5 document (simplified polygons; holes as `hole` shapes with a group_id)
    OUT/<case>/<stem>.png    the image, next to its JSON (not written with embed_images: imageData instead)
    OUT/labelme.csv          case, image, labelme, shapes
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from oocyteseg.data.ingest_common import IngestResult, Progress, collect_files, relative_to, safe_name, write_errors
from oocyteseg.data.labels import manifest_classes
from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import check_writable, write_table
from oocyteseg.io.classes_file import ClassesFile, as_classes
from oocyteseg.io.images import read_image, read_mask, write_image
from oocyteseg.io.labelme import write_labelme

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


def _pairs_from_folder(masks: Path, images: Path | None,
                      errors: list[OocytesegError]) -> list[tuple[str, Path, Path]]:
    if images is None:
        raise OocytesegError("a folder of masks needs the images it annotates", masks,
                             "pass --images IMAGES_DIR (matched by file stem), or export from a manifest")
    by_stem: dict[str, Path] = {}
    for path, _ in collect_files([images], IMAGE_SUFFIXES, "image"):
        by_stem.setdefault(path.stem, path)
    pairs = []
    for mask, root in collect_files([masks], (".png",), "mask"):
        image = by_stem.get(mask.stem)
        if image is None:
            errors.append(OocytesegError(f"no image named {mask.stem}.* in {images}", mask,
                                         "give masks and images the same file stem"))
            continue
        rel = mask.relative_to(root) if root else Path(mask.name)
        pairs.append((rel.parts[0] if len(rel.parts) > 1 else mask.stem, mask, image))
    return pairs


def export_labelme(source: str | os.PathLike, out: str | os.PathLike, *,
                   classes: ClassesFile | str | os.PathLike | None = None, images: str | os.PathLike | None = None,
                   embed_images: bool = False, overwrite: bool = False,
                   progress: Progress | None = None) -> IngestResult:
    """Write a LabelMe JSON for every mask of a manifest (or of a masks folder matched to `images`)."""
    source, out = Path(source), Path(out)
    table = check_writable(out / "labelme.csv", overwrite)
    is_manifest = source.is_file() or (source / "manifest.csv").is_file()
    result = IngestResult(table=None, rows=0)
    if is_manifest:
        df = load_manifest(source)
        df = df[df["mask_path"] != ""]
        items = [(str(r["case"]), Path(r["mask_path"]), Path(r["image_path"]), r["labelset"]) for _, r in df.iterrows()]
    else:
        pairs = _pairs_from_folder(source, Path(images) if images else None, result.errors)
        items = [(c, m, i, None) for c, m, i in pairs]
    if not is_manifest and classes is None:
        raise OocytesegError("a folder of masks needs a classes file", source, "pass --classes configs/classes-icsi.yaml")
    fixed = as_classes(classes) if classes is not None else None
    rows = []
    for n, (case, mask_path, image_path, labelset) in enumerate(items):
        try:
            labels = fixed or manifest_classes(df, labelset)
            if labels is None:
                raise OocytesegError(f"label set {labelset!r} is not built in and has no classes.yaml beside the "
                                     "manifest", mask_path, "pass --classes")
            mask, image = read_mask(mask_path), read_image(image_path)
            if mask.max(initial=0) >= labels.num_classes:
                raise OocytesegError(f"mask has value {int(mask.max())} but {labels.name} has {labels.num_classes} "
                                     "classes", mask_path, "pass the matching --classes")
            stem = mask_path.stem
            folder = out / safe_name(case)
            if not embed_images:
                write_image(folder / f"{stem}.png", image, overwrite)
            doc = write_labelme(folder / f"{stem}.json", mask, labels, image_path=f"{stem}.png", image=image,
                                embed_image=embed_images, overwrite=overwrite)
            rows.append({"case": case, "image": relative_to(image_path.resolve(), out.resolve()),
                         "labelme": relative_to(doc, out), "shapes": _count_shapes(doc)})
        except OocytesegError as exc:
            result.errors.append(exc)
        if progress:
            progress("masks", n + 1, len(items))
    if rows:
        write_table(pd.DataFrame(rows, columns=["case", "image", "labelme", "shapes"]), table, overwrite=overwrite)
        result.table, result.rows = table, len(rows)
    write_errors(result.errors, out / "failed.csv")
    return result


def _count_shapes(path: Path) -> int:
    import json

    return len(json.loads(path.read_text())["shapes"])
