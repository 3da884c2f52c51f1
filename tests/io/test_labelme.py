"""LabelMe reading (shapes, groups, holes, aliases, draw order, images) and writing (masks -> polygons)."""

from __future__ import annotations

import base64
import io
import json
import math
import tracemalloc

import cv2
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from oocyteseg.classes import ICSI
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import BUILTIN
from oocyteseg.io.images import write_image
from oocyteseg.io.labelme import (mask_to_labelme, parse_labelme, rasterize_shapes, read_labelme,
                                  read_labelme_mask)

C = BUILTIN["icsi"]


def _doc(shapes, h=40, w=50, **extra) -> dict:
    return {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": "img.png", "imageData": None,
            "imageHeight": h, "imageWidth": w, **extra}


def _poly(label, pts, kind="polygon", group_id=None) -> dict:
    return {"label": label, "points": pts, "group_id": group_id, "shape_type": kind, "flags": {}}


def test_rectangle_circle_polygon_golden_areas():
    rect = parse_labelme(_doc([_poly("oocyte", [[5, 3], [2, 7]], "rectangle")]), C).mask
    assert (rect == 1).sum() == 4 * 5 and rect[3:8, 2:6].all()  # corners inclusive, either order
    circ = parse_labelme(_doc([_poly("sERC", [[20, 20], [30, 20]], "circle")]), C).mask
    assert abs((circ == 2).sum() - np.pi * 100) < 0.06 * np.pi * 100
    tri = parse_labelme(_doc([_poly("needle", [[0, 0], [10, 0], [0, 10]])]), C).mask
    assert 50 <= (tri == 3).sum() <= 70  # area 50 plus the outline, as LabelMe draws it


def test_draw_order_and_aliases_not_file_order():
    shapes = [_poly("NEEDLE", [[0, 18], [49, 18], [49, 22], [0, 22]]),  # listed first, drawn last
              _poly("SER", [[15, 12], [30, 12], [30, 28], [15, 28]]),
              _poly("Oocyte", [[5, 5], [45, 5], [45, 35], [5, 35]])]
    mask = parse_labelme(_doc(shapes), C).mask
    assert mask[20, 20] == 3 and mask[14, 20] == 2 and mask[8, 8] == 1 and mask[0, 0] == 0


def test_group_id_hole_cuts_its_group_only():
    shapes = [_poly("oocyte", [[5, 5], [45, 5], [45, 35], [5, 35]], group_id=1),
              _poly("hole", [[15, 15], [25, 15], [25, 25], [15, 25]], group_id=1),
              _poly("needle", [[18, 0], [22, 0], [22, 39], [18, 39]], group_id=2)]
    ann = parse_labelme(_doc(shapes), C)
    assert ann.mask[20, 17] == 0 and ann.mask[10, 10] == 1 and ann.mask[20, 20] == 3 and not ann.skipped
    lone = parse_labelme(_doc(shapes[:1] + [_poly("hole", [[1, 1], [3, 1], [3, 3]])]), C)
    assert lone.skipped and "group_id" in lone.skipped[0] and lone.mask[20, 17] == 1


def test_unsupported_and_degenerate_shapes_are_reported_not_dropped():
    shapes = [_poly("oocyte", [[5, 5], [45, 5], [45, 35]]),
              _poly("needle", [[0, 0], [10, 10]], "line"),
              _poly("sERC", [[3, 3]], "point"),
              _poly("needle", [[0, 0], [4, 4], [8, 0]], "linestrip"),
              _poly("sERC", [[1, 1], [5, 5]])]  # polygon with 2 points
    ann = parse_labelme(_doc(shapes), C)
    assert len(ann.skipped) == 4 and (ann.mask == 1).sum() > 0 and not (ann.mask >= 2).any()
    assert any("'line'" in s for s in ann.skipped) and any("2 point" in s for s in ann.skipped)
    with pytest.raises(OocytesegError, match="line"):
        rasterize_shapes(shapes, ICSI, 40, 50)


def test_points_outside_the_image_are_clipped_and_reported():
    ann = parse_labelme(_doc([_poly("oocyte", [[-100, -100], [25, -100], [25, 20], [-100, 20]]),
                              _poly("sERC", [[100, 100], [120, 100], [120, 130]])]), C)
    assert len(ann.clipped) == 2 and "nothing left" in ann.clipped[1]
    assert ann.mask[:21, :26].all() and (ann.mask == 1).sum() == 21 * 26


def test_unknown_label_names_the_file_and_the_fix():
    with pytest.raises(OocytesegError) as info:
        parse_labelme(_doc([_poly("nucleus", [[1, 1], [5, 1], [5, 5]])]), C, "a/b.json")
    msg = str(info.value)
    assert msg.startswith("a/b.json:") and "'nucleus'" in msg and "alias" in msg and "\n" not in msg


def test_labelme3_document_without_shape_type_or_size_takes_the_image_size(tmp_path):
    write_image(tmp_path / "f.png", np.zeros((30, 20, 3), np.uint8))
    doc = {"flags": {"good": True}, "lineColor": [0, 255, 0, 128], "imagePath": "f.png", "imageData": None,
           "shapes": [{"label": "oocyte", "line_color": None, "points": [[2, 2], [15, 2], [15, 25]]}]}
    (tmp_path / "f.json").write_text(json.dumps(doc))
    ann, image = read_labelme(tmp_path / "f.json", C)
    assert image.shape == (30, 20, 3) and ann.mask.shape == (30, 20) and (ann.mask == 1).any()
    assert ann.flags == {"good": True}


def _png_b64(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_embedded_image_data_and_windows_image_path(tmp_path):
    img = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    (tmp_path / "e.json").write_text(json.dumps(_doc([], imageData=_png_b64(img), imagePath="gone.png")))
    _, image = read_labelme(tmp_path / "e.json", C)
    assert np.array_equal(image, img)
    (tmp_path / "sub").mkdir()
    write_image(tmp_path / "sub" / "w.png", img)
    (tmp_path / "w.json").write_text(json.dumps(_doc([], imagePath="sub\\w.png")))
    assert np.array_equal(read_labelme(tmp_path / "w.json", C)[1], img)


def test_mask_shape_type_of_labelme5():
    sub = np.zeros((6, 8), np.uint8)
    sub[1:5, 2:6] = 1
    shape = _poly("sERC", [[10, 20], [17, 25]], "mask")
    shape["mask"] = _png_b64(sub * 255)
    mask = parse_labelme(_doc([shape]), C).mask
    assert (mask == 2).sum() == 16 and mask[21:25, 12:16].all()


@pytest.mark.parametrize("content,needle", [
    ('{"shapes": [', "malformed"),
    ("[1, 2, 3]", "not a LabelMe"),
    ('{"shapes": [], "imageHeight": 0, "imageWidth": 10, "imagePath": "x.png"}', "imageHeight"),
    ('{"shapes": [{"label": "oocyte", "points": [[1, "a"]]}], "imageHeight": 9, "imageWidth": 9}', "[x, y]"),
    ('{"shapes": [{"label": "oocyte", "points": [[1, NaN], [2, 2], [3, 1]]}], "imageHeight": 9, "imageWidth": 9}',
     "finite"),
])
def test_malformed_files(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(OocytesegError, match=needle.replace("[", r"\[").replace("]", r"\]")) as info:
        read_labelme_mask(path, C)
    assert str(path) in str(info.value) and "Fix:" in str(info.value)


def test_missing_image_and_size_mismatch(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps(_doc([], imagePath="absent.png")))
    with pytest.raises(OocytesegError, match="absent.png.*not found"):
        read_labelme(tmp_path / "m.json", C)
    write_image(tmp_path / "img.png", np.zeros((41, 50, 3), np.uint8))
    (tmp_path / "s.json").write_text(json.dumps(_doc([])))
    with pytest.raises(OocytesegError, match="50x41 but the JSON says 50x40"):
        read_labelme(tmp_path / "s.json", C)
    (tmp_path / "d.json").write_text(json.dumps(_doc([], imageData="@@not base64@@")))
    with pytest.raises(OocytesegError, match="imageData"):
        read_labelme(tmp_path / "d.json", C)


def _ring_mask() -> np.ndarray:
    mask = np.zeros((120, 160), np.uint8)
    cv2.circle(mask, (70, 60), 50, 1, -1)
    cv2.circle(mask, (70, 60), 15, 0, -1)  # a true hole in the oocyte (background)
    cv2.circle(mask, (95, 60), 10, 2, -1)  # sERC inside the oocyte
    cv2.rectangle(mask, (100, 55), (159, 62), 3, -1)  # needle crossing into the oocyte
    return mask


def test_masks_to_labelme_and_back_keep_classes_and_holes(tmp_path):
    mask = _ring_mask()
    doc = mask_to_labelme(mask, ICSI, "ring.png", image=np.dstack([mask * 60] * 3).astype(np.uint8))
    assert {s["label"] for s in doc["shapes"]} == {"oocyte", "sERC", "needle", "hole"}
    assert doc["imageData"] and doc["imageHeight"] == 120
    (tmp_path / "ring.json").write_text(json.dumps(doc))
    ann, image = read_labelme(tmp_path / "ring.json", C)
    assert image.shape == (120, 160, 3) and not ann.notes
    for c in (1, 2, 3):
        a, b = mask == c, ann.mask == c
        assert (a & b).sum() / (a | b).sum() >= 0.97, c
    assert ann.mask[60, 70] == 0  # the hole survived the round trip


# --- shapes past the image border --------------------------------------------------------------------------

PAD = 512  # the reference canvas holds every test shape whole, at positive coordinates
# non-integer coordinates (1/100 px), none so close to a whole pixel that adding PAD would round them onto it
COORD = st.integers(-30000, 35000).map(lambda v: v / 100)


def _whole_polygon(pts, h, w) -> np.ndarray:
    """PIL's raster of the whole, unclipped polygon on a canvas around the image, cropped to the image."""
    canvas = Image.new("1", (w + 2 * PAD, h + 2 * PAD), 0)
    ImageDraw.Draw(canvas).polygon([(x + PAD, y + PAD) for x, y in pts], fill=1, outline=1)
    return np.asarray(canvas, bool)[PAD:PAD + h, PAD:PAD + w]


def _needle(tip, angle_deg, length=180.0, width=3.4):
    """A thin quadrilateral from `tip` along `angle_deg`, non-integer vertices."""
    d = np.array([math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))])
    n = np.array([-d[1], d[0]]) * width / 2
    a, b = np.array(tip), np.array(tip) + length * d
    return [tuple(map(float, p)) for p in (a + n, b + n, b - n, a - n)]


@pytest.mark.parametrize("pts", [
    _needle((30.3, 20.7), 4.1),  # past the right border
    _needle((30.3, 20.7), 176.3),  # left
    _needle((25.6, 30.2), -86.9),  # top
    _needle((25.6, 10.2), 87.7),  # bottom
    _needle((20.45, 15.35), -142.0),  # past the top-left corner
    _needle((30.7, 25.1), 33.3),  # past the bottom-right corner
    [(-12.7, -9.3), (61.2, 3.5), (44.9, 52.8), (7.5, 45.1), (-30.2, 20.5)],  # every border
])
def test_polygon_past_the_border_is_exactly_the_whole_polygon_cropped(pts):
    ann = parse_labelme(_doc([_poly("needle", [list(p) for p in pts])]), C)
    expected = _whole_polygon(pts, 40, 50)
    assert expected.any() and np.array_equal(ann.mask == 3, expected)
    assert len(ann.clipped) == 1 and "border" in ann.clipped[0] and "kept the part inside" in ann.clipped[0]


@settings(max_examples=150, deadline=None)
@given(h=st.integers(1, 48), w=st.integers(1, 48),
       pts=st.lists(st.tuples(COORD, COORD), min_size=3, max_size=8))
def test_any_polygon_rasterises_as_the_whole_polygon_cropped(h, w, pts):
    ann = parse_labelme(_doc([_poly("oocyte", [list(p) for p in pts])], h=h, w=w), C)
    assert np.array_equal(ann.mask == 1, _whole_polygon(pts, h, w))


@settings(max_examples=100, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40),
       corners=st.lists(st.tuples(COORD, COORD), min_size=2, max_size=2))
@example(h=20, w=20, corners=[(-5.2, 3.1), (-0.4, 9.8)])  # ends left of the image: nothing inside
def test_rectangle_past_the_border_is_exactly_the_whole_rectangle_cropped(h, w, corners):
    canvas = Image.new("1", (w + 2 * PAD, h + 2 * PAD), 0)
    (x0, y0), (x1, y1) = np.min(corners, 0) + PAD, np.max(corners, 0) + PAD
    ImageDraw.Draw(canvas).rectangle([x0, y0, x1, y1], fill=1, outline=1)
    ann = parse_labelme(_doc([_poly("oocyte", [list(p) for p in corners], "rectangle")], h=h, w=w), C)
    assert np.array_equal(ann.mask == 1, np.asarray(canvas, bool)[PAD:PAD + h, PAD:PAD + w])


def test_far_vertices_keep_memory_bounded_and_the_edges_exact():
    # the far corners lie on the lines through the near ones, so the image shows the same needle
    far = [[20.4, 30.6], [999_020.2, 10_020.9], [999_020.7, 10_024.1], [20.9, 34.5]]
    near = [(20, 30), (1020, 40), (1020, 44), (20, 34)]
    tracemalloc.start()
    try:
        mask = parse_labelme(_doc([_poly("needle", far)], h=120, w=200), C).mask
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6 and np.array_equal(mask == 3, _whole_polygon(near, 120, 200)) and (mask == 3).sum() > 500


def test_circle_past_the_border_is_reported():
    ann = parse_labelme(_doc([_poly("sERC", [[3.0, 20.0], [3.0, 28.0]], "circle")]), C)
    assert len(ann.clipped) == 1 and (ann.mask == 2).sum() > 0 and ann.mask[20, 0] == 2
