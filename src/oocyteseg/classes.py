"""Label sets shared by every stage: index, name, display colour and role of each class.

A *role* says what a class means to the measurements (`oocyte`, `serc`, `needle`, `inclusion`, and the
anatomy roles `zona`, `pvs`, `ooplasm`, `polar_body`). Features find their classes by role, never by
index, so a lab's classes file may order and name its classes as it likes; a class gets a role when its
name is one of the role's names (case-insensitive, spaces/'-'/'_' alike) or through an explicit
`roles:` mapping in the classes file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# role -> the class names that take it by default (normalised: case-folded, spaces/-/_ as '_')
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "oocyte": ("oocyte", "egg", "ovum"),
    "serc": ("serc", "ser", "sercs", "ser_cluster", "smooth_er_cluster"),
    "needle": ("needle", "injection_needle", "icsi_needle", "injection_pipette"),
    "inclusion": ("inclusion", "inclusions", "cytoplasmic_inclusion"),
    "zona": ("zona", "zona_pellucida", "zp"),
    "pvs": ("pvs", "perivitelline_space"),
    "ooplasm": ("ooplasm", "cytoplasm"),
    "polar_body": ("polar_body", "pb", "pb1", "first_polar_body"),
}
ROLES: tuple[str, ...] = tuple(ROLE_NAMES)


def normalise_label(label: str) -> str:
    """Key used for matching labels: case-folded, spaces/'-'/'_' collapsed to one '_'."""
    return re.sub(r"[\s_\-]+", "_", str(label).strip().casefold()).strip("_")


def check_role(role: str) -> str:
    """`role` normalised; an unknown role raises KeyError listing the valid ones."""
    key = normalise_label(role)
    if key not in ROLE_NAMES:
        raise KeyError(f"unknown role {role!r}; valid: {', '.join(ROLES)}")
    return key


def default_roles(classes: tuple[str, ...]) -> dict[str, int]:
    """Roles of classes by name: {role: class index} for every non-background class named like a role."""
    roles: dict[str, int] = {}
    for i, name in enumerate(classes[1:], 1):
        key = normalise_label(name)
        for role, names in ROLE_NAMES.items():
            if key in names and role not in roles:
                roles[role] = i
    return roles


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of classes; index 0 is always background.

    Args:
        name: the label set's name (manifests' `labelset` column).
        classes: class names in index order.
        colors: one RGB colour per class.
        roles: {role: class index}; None derives them from the class names (`default_roles`).
        pixel_size_um: the data's calibration (micrometres per pixel of the original frame), if known;
            measurements then get `_um` / `_um2` columns without `--pixel-size`.
    """

    name: str
    classes: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    roles: dict[str, int] | None = field(default=None, compare=True, hash=False)
    pixel_size_um: float | None = field(default=None, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "colors", tuple(tuple(int(v) for v in c) for c in self.colors))
        if len(self.colors) != len(self.classes):
            raise ValueError(f"label set {self.name!r}: {len(self.classes)} classes but {len(self.colors)} colours")
        roles = default_roles(self.classes) if self.roles is None else {check_role(r): int(i)
                                                                          for r, i in self.roles.items()}
        for role, i in roles.items():
            if not 0 < i < len(self.classes):
                raise ValueError(f"label set {self.name!r}: role {role!r} points to class index {i}, "
                                 f"valid 1..{len(self.classes) - 1}")
        object.__setattr__(self, "roles", roles)

    def __hash__(self) -> int:
        return hash((self.name, self.classes, self.colors, tuple(sorted(self.roles.items()))))

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def index(self, name: str) -> int:
        """Index of a class by (case-insensitive) name; raises KeyError listing the valid names."""
        lowered = [c.lower() for c in self.classes]
        if name.lower() not in lowered:
            raise KeyError(f"unknown class {name!r} in label set {self.name!r}; valid: {', '.join(self.classes)}")
        return lowered.index(name.lower())

    def role(self, role: str) -> int | None:
        """Index of the class with this role, or None when the label set has no such class.

        An unknown role name raises KeyError listing the valid roles.
        """
        if role in self.roles:  # the per-frame path asks by canonical name: no normalisation needed
            return self.roles[role]
        return self.roles.get(check_role(role))

    def has_roles(self, *roles: str) -> bool:
        """True when every one of `roles` is some class's role."""
        return all(self.role(r) is not None for r in roles)

    def role_of(self, index: int) -> str | None:
        """The role of class `index`, or None."""
        return next((r for r, i in self.roles.items() if i == index), None)

    def to_dict(self) -> dict:
        """JSON-friendly form (what checkpoints, ONNX files and summaries record)."""
        return {"name": self.name, "classes": list(self.classes), "colors": [list(c) for c in self.colors],
                "roles": dict(self.roles), "pixel_size_um": self.pixel_size_um}

    @classmethod
    def from_dict(cls, data: dict) -> LabelSet:
        """Inverse of `to_dict` (roles missing: derived from the names)."""
        return cls(name=str(data["name"]), classes=tuple(data["classes"]),
                   colors=tuple(tuple(c) for c in data["colors"]), roles=data.get("roles"),
                   pixel_size_um=data.get("pixel_size_um"))


# Shimotsu et al.: oocyte, sERC and needle in ICSI frames.
ICSI = LabelSet(
    name="icsi",
    classes=("background", "oocyte", "sERC", "needle"),
    colors=((0, 0, 0), (220, 60, 60), (60, 200, 90), (240, 210, 40)),
)

# Andreini et al.: cytoplasmic inclusions in 256x256 oocyte close-ups.
INCLUSIONS = LabelSet(
    name="inclusions",
    classes=("background", "inclusion"),
    colors=((0, 0, 0), (250, 80, 200)),
)

# The phantom's anatomy label set: the contours Oocytor measures.
OOCYTE_ANATOMY = LabelSet(
    name="oocyte-anatomy",
    classes=("background", "zona", "PVS", "ooplasm", "polar body"),
    colors=((0, 0, 0), (90, 160, 240), (250, 190, 90), (220, 60, 60), (170, 90, 230)),
)

# ICSI plus the polar body: the phantom's videos made with breakage modes (issue #17), where the polar body's
# clock angle to the injection site is measured.
ICSI_INJECTION = LabelSet(
    name="icsi-injection",
    classes=ICSI.classes + ("polar body",),
    colors=ICSI.colors + ((170, 90, 230),),
)

LABEL_SETS = {ICSI.name: ICSI, INCLUSIONS.name: INCLUSIONS, OOCYTE_ANATOMY.name: OOCYTE_ANATOMY,
              ICSI_INJECTION.name: ICSI_INJECTION}


def default_colors(n: int) -> tuple[tuple[int, int, int], ...]:
    """n distinct display colours (black first, for background), from matplotlib's tab10/tab20 palette."""
    palette = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
    return ((0, 0, 0),) + tuple(palette[i % len(palette)] for i in range(n - 1))


def labels_from_extra(extra: dict | None) -> LabelSet:
    """The label set a checkpoint / ONNX file / summary records: the full `label_set` dict (names, colours,
    roles), else the built-in named by `labelset`, else the recorded `classes` with default colours;
    ICSI when nothing is recorded (checkpoints older than label sets)."""
    extra = extra or {}
    if extra.get("label_set"):
        return LabelSet.from_dict(extra["label_set"])
    name = extra.get("labelset")
    classes = tuple(extra.get("classes") or ())
    if name in LABEL_SETS and (not classes or LABEL_SETS[name].classes == classes):
        return LABEL_SETS[name]
    if classes:
        return LabelSet(name=str(name or "custom"), classes=classes, colors=default_colors(len(classes)))
    return ICSI


def get_label_set(name: str) -> LabelSet:
    """Built-in label set by name; unknown names raise KeyError listing the valid ones.

    Label sets from classes files: `oocyteseg.io.classes_file.resolve_labels`.
    """
    if name not in LABEL_SETS:
        raise KeyError(f"unknown label set {name!r}; valid: {', '.join(LABEL_SETS)} (or a classes file path)")
    return LABEL_SETS[name]
