"""Which label set a data set uses: the classes file written beside its manifest, a config's choice, or a built-in.

Ingestion (`labelme`, `dataset folder`) writes the classes file it used as `classes.yaml` beside
`manifest.csv`, so the class order of the masks travels with them. Training and evaluation take the
label set a config names (a classes-file path or a built-in name) and refuse it when it disagrees with
the classes file beside a manifest: masks written with one class order and read with another would give
wrong measurements with no error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from oocyteseg.classes import LABEL_SETS, LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_text
from oocyteseg.io.classes_file import BUILTIN, ClassesFile, load_classes, resolve_labels, write_classes_yaml

CLASSES_FILE = "classes.yaml"


def write_dataset_classes(classes: ClassesFile, out: str | os.PathLike) -> Path:
    """Write the classes file a data set's masks were made with beside its manifest (OUT/classes.yaml)."""
    header = "# The classes these masks were written with (index order = pixel values). Written by oocyteseg.\n"
    return write_text(Path(out) / CLASSES_FILE, header + write_classes_yaml(classes))


def _manifest_path(manifest: "pd.DataFrame | str | os.PathLike") -> Path | None:
    if isinstance(manifest, pd.DataFrame):
        p = manifest.attrs.get("manifest_path")
        return Path(p) if p else None
    p = Path(manifest)
    return p / "manifest.csv" if p.is_dir() else p


def beside_manifest(manifest: "pd.DataFrame | str | os.PathLike", name: str) -> ClassesFile | None:
    """The classes file of label set `name` written beside a manifest (classes.yaml or classes-<name>.yaml)."""
    path = _manifest_path(manifest)
    if path is None:
        return None
    for candidate in (path.parent / CLASSES_FILE, path.parent / f"classes-{name}.yaml"):
        if candidate.is_file():
            classes = load_classes(candidate)
            if classes.name == name:
                return classes
    return None


def manifest_classes(manifest: "pd.DataFrame | str | os.PathLike", name: str) -> ClassesFile | None:
    """Classes file of label set `name` of a manifest's rows: the one beside it, else the built-in, else None."""
    return beside_manifest(manifest, name) or BUILTIN.get(name)


def manifest_labels(manifest: "pd.DataFrame | str | os.PathLike", name: str) -> LabelSet:
    """Label set `name` of a manifest's rows: the classes file beside it, else the built-in of that name."""
    beside = beside_manifest(manifest, name)
    if beside is not None:
        return beside.label_set()
    if name in LABEL_SETS:
        return LABEL_SETS[name]
    raise OocytesegError(f"label set {name!r} is neither built in ({', '.join(LABEL_SETS)}) nor described by a "
                         f"{CLASSES_FILE} beside the manifest", _manifest_path(manifest),
                         "pass its classes file (--classes FILE, or data.classes in a training config)")


def dataset_labels(manifests: Sequence[str | os.PathLike], spec: "LabelSet | str | os.PathLike | None") -> LabelSet:
    """The label set a training / evaluation run uses, checked against the classes beside each manifest.

    Args:
        manifests: the data's manifests (files or folders).
        spec: a LabelSet, a classes-file path or a label-set name (built in, or described beside the manifests).
    """
    explicit = isinstance(spec, LabelSet) or (spec is not None and (Path(spec).is_file()
                                                                     or Path(spec).suffix in (".yaml", ".yml")))
    labels: LabelSet | None = resolve_labels(spec) if explicit else None  # type: ignore[arg-type]
    name = labels.name if labels is not None else str(spec)
    for manifest in manifests:
        beside = beside_manifest(manifest, name)
        if beside is None:
            continue
        if labels is None:  # a bare name: the classes the data was written with
            labels = beside.label_set()
        elif beside.names != labels.classes:
            raise OocytesegError(
                f"the masks were written with classes {list(beside.names)} (index order) but the run's classes "
                f"are {list(labels.classes)}", _manifest_path(manifest),
                "use the classes file beside the manifest, or re-ingest the data with yours")
    if labels is None and name in LABEL_SETS:
        labels = LABEL_SETS[name]
    if labels is None:
        raise OocytesegError(f"unknown label set {spec!r}; valid: {', '.join(LABEL_SETS)}, a classes-file path, or a "
                             f"name described by a {CLASSES_FILE} beside the manifest",
                             fix="set data.classes to the classes file the data was ingested with")
    return labels

