"""Label sets shared by every stage: index, name and display colour of each class."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of classes; index 0 is always background."""

    name: str
    classes: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def index(self, name: str) -> int:
        """Index of a class by (case-insensitive) name; raises KeyError listing the valid names."""
        lowered = [c.lower() for c in self.classes]
        if name.lower() not in lowered:
            raise KeyError(f"unknown class {name!r} in label set {self.name!r}; valid: {', '.join(self.classes)}")
        return lowered.index(name.lower())


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

LABEL_SETS = {ICSI.name: ICSI, INCLUSIONS.name: INCLUSIONS}


def get_label_set(name: str) -> LabelSet:
    """Label set by name; unknown names raise KeyError listing the valid ones."""
    if name not in LABEL_SETS:
        raise KeyError(f"unknown label set {name!r}; valid: {', '.join(LABEL_SETS)}")
    return LABEL_SETS[name]
