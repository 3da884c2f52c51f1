"""Classes file (YAML): the classes of a data set in index order, their colours, label aliases and draw order.

Example (configs/classes-icsi.yaml)::

    name: icsi
    classes:
      - {name: background, color: [0, 0, 0], aliases: [_background_]}
      - {name: oocyte, color: [220, 60, 60], aliases: [ooplasm]}
      - {name: sERC, color: [60, 200, 90], aliases: [SER, serc]}
      - {name: needle, color: [240, 210, 40], aliases: [pipette]}
    draw_order: [oocyte, sERC, needle]   # later classes are painted on top
    roles: {serc: sERC}                  # optional: which class plays which role in the features
    pixel_size_um: 0.31                  # optional calibration: adds _um / _um2 columns to every measurement
    hole_labels: [hole]                  # a shape with this label cuts a hole in its group (same group_id)
    ignore_labels: []                    # labels skipped on purpose (counted, not errors)

Labels match names and aliases case-insensitively, with spaces, '-' and '_' treated alike.
Roles (`oocyte`, `serc`, `needle`, `inclusion`, `zona`, `pvs`, `ooplasm`, `polar_body`) default to the
class of that name; `roles:` maps a role to a class name for labs that name their classes otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oocyteseg.classes import (ICSI, ICSI_INJECTION, INCLUSIONS, LABEL_SETS, OOCYTE_ANATOMY, ROLES, LabelSet,
                               default_roles, normalise_label)
from oocyteseg.errors import OocytesegError

__all__ = ["BUILTIN", "ClassSpec", "ClassesFile", "as_classes", "load_classes", "normalise_label", "resolve_labels"]


class ClassSpec(BaseModel):
    """One class: its name, display colour (RGB) and the other labels annotators used for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    color: tuple[int, int, int]
    aliases: tuple[str, ...] = ()

    @field_validator("color")
    @classmethod
    def _rgb(cls, v: tuple[int, int, int]) -> tuple[int, int, int]:
        if not all(0 <= c <= 255 for c in v):
            raise ValueError(f"colour {list(v)} must have three values in 0..255")
        return v


class ClassesFile(BaseModel):
    """A validated classes file. Index 0 is background."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    classes: tuple[ClassSpec, ...] = Field(min_length=2)
    draw_order: tuple[str, ...] = ()
    hole_labels: tuple[str, ...] = ("hole",)
    ignore_labels: tuple[str, ...] = ()
    roles: dict[str, str] = {}
    pixel_size_um: float | None = Field(None, gt=0)  # calibration: micrometres per pixel of the original frames

    @model_validator(mode="after")
    def _consistent(self) -> "ClassesFile":
        keys: dict[str, str] = {}
        for spec in self.classes:
            for label in (spec.name, *spec.aliases):
                k = normalise_label(label)
                if k in keys and keys[k] != spec.name:
                    raise ValueError(f"label {label!r} is given to both {keys[k]!r} and {spec.name!r}")
                keys[k] = spec.name
        for label in (*self.hole_labels, *self.ignore_labels):
            if normalise_label(label) in keys:
                raise ValueError(f"hole/ignore label {label!r} is also a class name or alias")
        colors = [spec.color for spec in self.classes]
        if len(set(colors)) != len(colors):
            raise ValueError("two classes share a colour; colour masks could not be told apart")
        if self.draw_order:
            names = [self.classes[self._index_of(n)].name for n in self.draw_order]
            expected = sorted(spec.name for spec in self.classes[1:])
            if sorted(n for n in names if n != self.classes[0].name) != expected or len(set(names)) != len(names):
                raise ValueError(f"draw_order must list each class except background once: {expected}")
        for role, label in self.roles.items():
            if normalise_label(role) not in ROLES:
                raise ValueError(f"unknown role {role!r}; valid: {', '.join(ROLES)}")
            if not self.lookup(label):
                raise ValueError(f"role {role!r} names {label!r}, which is not a class (background cannot take a role)")
        return self

    def _index_of(self, label: str) -> int:
        i = self.lookup(label)
        if i is None:
            raise ValueError(f"draw_order names unknown class {label!r}")
        return i

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.classes)

    @property
    def colors(self) -> list[tuple[int, int, int]]:
        return [tuple(spec.color) for spec in self.classes]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def lookup(self, label: str) -> int | None:
        """Class index of a label (name or alias, case-insensitive), or None if unknown."""
        k = normalise_label(label)
        for i, spec in enumerate(self.classes):
            if k == normalise_label(spec.name) or k in {normalise_label(a) for a in spec.aliases}:
                return i
        return None

    def is_hole(self, label: str) -> bool:
        return normalise_label(label) in {normalise_label(h) for h in self.hole_labels}

    def is_ignored(self, label: str) -> bool:
        return normalise_label(label) in {normalise_label(h) for h in self.ignore_labels}

    def draw_indices(self) -> list[int]:
        """Class indices in painting order (background first, the last one ends on top)."""
        if not self.draw_order:
            return list(range(self.num_classes))
        order = [self._index_of(n) for n in self.draw_order]
        return [0] + [i for i in order if i != 0]

    def role_indices(self) -> dict[str, int]:
        """{role: class index}: classes named like a role, then the explicit `roles:` mapping."""
        roles = default_roles(self.names)
        roles.update({normalise_label(r): int(self.lookup(label)) for r, label in self.roles.items()})
        return roles

    def label_set(self) -> LabelSet:
        """The equivalent LabelSet (names, colours and roles)."""
        return LabelSet(name=self.name, classes=self.names, colors=tuple(self.colors), roles=self.role_indices(),
                        pixel_size_um=self.pixel_size_um)


def _builtin(labels: LabelSet, aliases: dict[str, tuple[str, ...]],
             draw_order: tuple[str, ...] | None = None) -> ClassesFile:
    return ClassesFile(name=labels.name, classes=tuple(
        ClassSpec(name=n, color=c, aliases=aliases.get(n, ())) for n, c in zip(labels.classes, labels.colors)),
        draw_order=draw_order or labels.classes[1:])


# The built-in classes files; configs/classes-*.yaml are the same, written out for editing.
BUILTIN: dict[str, ClassesFile] = {
    "icsi": _builtin(ICSI, {"background": ("_background_", "bg"), "oocyte": ("ooplasm", "egg", "ovum"),
                            "sERC": ("SER", "sERCs", "ser_cluster", "smooth ER cluster"),
                            "needle": ("injection needle", "icsi needle", "injection pipette")}),
    "inclusions": _builtin(INCLUSIONS, {"background": ("_background_", "bg"),
                                        "inclusion": ("inclusions", "cytoplasmic inclusion", "granule")}),
    "oocyte-anatomy": _builtin(OOCYTE_ANATOMY, {"background": ("_background_", "bg"),
                                                "zona": ("zona pellucida", "ZP"),
                                                "PVS": ("perivitelline space",),
                                                "ooplasm": ("cytoplasm",),
                                                "polar body": ("PB", "PB1", "first polar body")}),
    "icsi-injection": _builtin(ICSI_INJECTION, {
        "background": ("_background_", "bg"), "oocyte": ("ooplasm", "egg", "ovum"),
        "sERC": ("SER", "sERCs", "ser_cluster", "smooth ER cluster"),
        "needle": ("injection needle", "icsi needle", "injection pipette"),
        "polar body": ("PB", "PB1", "first polar body")}, draw_order=("oocyte", "polar body", "sERC", "needle")),
}
assert set(BUILTIN) == set(LABEL_SETS)


def as_classes(labels: "ClassesFile | LabelSet | str | os.PathLike") -> ClassesFile:
    """A ClassesFile from a ClassesFile, a LabelSet (the built-in of that name if it matches), a name or a path."""
    if isinstance(labels, ClassesFile):
        return labels
    if isinstance(labels, LabelSet):
        builtin = BUILTIN.get(labels.name)
        if builtin is not None and builtin.label_set() == labels:
            return builtin
        return ClassesFile(name=labels.name, classes=tuple(ClassSpec(name=n, color=c) for n, c in
                                                          zip(labels.classes, labels.colors)),
                           roles={r: labels.classes[i] for r, i in labels.roles.items()},
                           pixel_size_um=labels.pixel_size_um)
    return load_classes(labels)


def resolve_labels(spec: "LabelSet | ClassesFile | str | os.PathLike") -> LabelSet:
    """The LabelSet of a built-in name ('icsi', 'inclusions', 'oocyte-anatomy'), a classes-file path, a
    ClassesFile or a LabelSet. Unknown names and bad files raise a one-line OocytesegError."""
    if isinstance(spec, LabelSet):
        return spec
    return as_classes(spec).label_set()


def load_classes(path: str | os.PathLike) -> ClassesFile:
    """Load and validate a classes YAML file, or a built-in by name ('icsi', 'inclusions')."""
    if str(path) in BUILTIN and not Path(path).is_file():
        return BUILTIN[str(path)]
    path = Path(path)
    if not path.is_file():
        raise OocytesegError("classes file not found", path,
                             f"pass a YAML file like configs/classes-icsi.yaml or a built-in name ({', '.join(BUILTIN)})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise OocytesegError(f"classes file is not valid YAML ({exc.__class__.__name__})", path,
                             "fix the YAML syntax") from exc
    try:
        return ClassesFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise OocytesegError(f"invalid classes file: {where}: {first['msg']}", path,
                             "see configs/classes-icsi.yaml for the expected fields") from None


def write_classes_yaml(classes: ClassesFile) -> str:
    """YAML text of a classes file (what configs/classes-*.yaml contain)."""
    data = classes.model_dump(mode="json")
    for spec in data["classes"]:
        spec["aliases"] = list(spec["aliases"])
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110)
