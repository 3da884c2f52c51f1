"""Fuzzing the LabelMe reader: any input gives a valid index mask or an OocytesegError, nothing else."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import BUILTIN
from oocyteseg.io.labelme import parse_labelme, read_labelme_mask

C = BUILTIN["icsi"]
LABELS = st.sampled_from(["oocyte", "sERC", "serc", "SER", "needle", "hole", "background", "nucleus", "", "Oocyte "])
KINDS = st.sampled_from(["polygon", "rectangle", "circle", "line", "point", "linestrip", "mask", "ellipse", None, 3])
COORD = st.one_of(st.floats(-200, 200, allow_nan=False), st.integers(-50, 100),
                  st.floats(allow_nan=True, allow_infinity=True), st.just("x"), st.booleans())
POINT = st.one_of(st.lists(COORD, min_size=2, max_size=2), st.lists(COORD, max_size=3), st.none(), st.just(5))
SHAPE = st.one_of(
    st.fixed_dictionaries({"label": LABELS, "points": st.one_of(st.lists(POINT, max_size=8), st.none(), st.just("p")),
                           "shape_type": KINDS},
                          optional={"group_id": st.one_of(st.none(), st.integers(0, 3), st.just("g"), st.floats()),
                                    "flags": st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2),
                                    "mask": st.one_of(st.none(), st.text(max_size=12))}),
    st.none(), st.integers(), st.text(max_size=4), st.lists(st.integers(), max_size=2))
DIM = st.one_of(st.integers(-3, 64), st.floats(-1, 64), st.none(), st.just("40"), st.just(10**9), st.booleans())
GOOD_POINT = st.lists(st.floats(-80, 120, allow_nan=False), min_size=2, max_size=2)
PLAIN_SHAPE = st.fixed_dictionaries(
    {"label": st.sampled_from(["oocyte", "sERC", "SER", "needle", "hole"]), "points": st.lists(GOOD_POINT, max_size=7),
     "shape_type": st.sampled_from(["polygon", "rectangle", "circle", "line", "point"])},
    optional={"group_id": st.one_of(st.none(), st.integers(0, 3))})
# mostly well-formed documents (so that rasterisation is exercised), and anything at all
PLAIN_DOC = st.fixed_dictionaries({"shapes": st.lists(PLAIN_SHAPE, max_size=6),
                                   "imageHeight": st.integers(1, 64), "imageWidth": st.integers(1, 64)})
MIXED_DOC = st.fixed_dictionaries({"shapes": st.lists(st.one_of(PLAIN_SHAPE, SHAPE), max_size=6),
                                   "imageHeight": st.integers(1, 64), "imageWidth": st.integers(1, 64)})
DOC = st.one_of(
    PLAIN_DOC, PLAIN_DOC, MIXED_DOC,
    st.fixed_dictionaries({"shapes": st.one_of(st.lists(SHAPE, max_size=6), st.none(), st.just({})),
                           "imageHeight": DIM, "imageWidth": DIM},
                          optional={"version": st.sampled_from(["3.16.7", "4.5.6", "5.4.1"]),
                                    "flags": st.one_of(st.none(), st.dictionaries(st.text(max_size=3), st.booleans())),
                                    "imagePath": st.one_of(st.none(), st.text(max_size=5)),
                                    "imageData": st.one_of(st.none(), st.text(max_size=8))}),
    st.none(), st.lists(st.integers(), max_size=3), st.text(max_size=5), st.integers())


def _valid(mask: np.ndarray) -> None:
    assert mask.dtype == np.uint8 and mask.ndim == 2 and mask.size > 0
    assert int(mask.max(initial=0)) < C.num_classes


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=DOC)
def test_parse_gives_a_mask_or_our_error(doc):
    try:
        ann = parse_labelme(doc, C, "fuzz.json")
    except OocytesegError as exc:
        assert "fuzz.json" in str(exc) and "\n" not in str(exc)
        return
    _valid(ann.mask)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=200), DOC.map(lambda d: json.dumps(d, allow_nan=True).encode()),
                      DOC.map(lambda d: json.dumps(d).encode()[: len(json.dumps(d)) // 2])))
def test_read_file_gives_a_mask_or_our_error(tmp_path, data):
    path = tmp_path / "fuzz.json"
    path.write_bytes(data)
    try:
        mask = read_labelme_mask(path, C)
    except OocytesegError as exc:
        assert str(path) in str(exc)
        return
    _valid(mask)
