"""The needle-tip second look: what `refine_tip` adds and keeps, the wrapped predictor, and `--tip-model`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oocyteseg.classes import ICSI, INCLUSIONS
from oocyteseg.cli.main import main
from oocyteseg.errors import OocytesegError
from oocyteseg.inference.tip_refine import CROP, TipRefinedPredictor, refine_tip

NEEDLE = ICSI.role("needle")


class _CropStub:
    """Crop predictor: returns a fixed mask (the crop's size) and records the crops it was given."""

    labels = ICSI

    def __init__(self, mask: np.ndarray):
        self.mask, self.seen = mask, []

    def predict(self, images, batch_size=8):
        self.seen += [im.shape for im in images]
        return [self.mask.copy() for _ in images]


def _frame() -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((480, 640), np.uint8)
    mask[150:330, 150:330] = ICSI.role("oocyte")
    mask[238:243, 400:600] = NEEDLE  # the needle, coming from the right, its tip at x = 400
    return np.zeros((480, 640, 3), np.uint8), mask


def test_refine_adds_only_needle_pixels_that_touch_the_needle():
    image, mask = _frame()
    before = mask.copy()
    # the crop is centred on the tip (400, 240): x 304-495, y 176-303
    found = np.zeros(CROP, np.uint8)
    found[62:67, 60:100] = NEEDLE   # image x 364-403: continues the needle past its tip (touches it)
    found[10:14, 10:20] = NEEDLE    # image x 314-323, y 186-189: a needle fragment apart from the needle
    stub = _CropStub(found)
    out = refine_tip(image, mask, (400.0, 240.0), stub, NEEDLE)
    assert stub.seen == [(CROP[0], CROP[1], 3)]  # native window, no resize
    assert np.array_equal(mask, before)  # the input is not changed
    assert (out[238:243, 364:400] == NEEDLE).all()  # the continuation was added
    assert (out[186:190, 314:324] != NEEDLE).all()  # the detached fragment was not
    changed = out != mask
    assert set(np.unique(out[changed])) == {NEEDLE} and changed.sum() == 5 * 36


def test_refine_leaves_frames_smaller_than_the_window_alone():
    small = np.zeros((96, 128), np.uint8)
    small[40:44, 60:128] = NEEDLE
    stub = _CropStub(np.full(CROP, NEEDLE, np.uint8))
    assert refine_tip(np.zeros((96, 128, 3), np.uint8), small, (60.0, 42.0), stub, NEEDLE) is small
    assert stub.seen == []


class _Base(_CropStub):
    spec, size, backend = None, (240, 320), "onnx"


def test_refined_predictor_refines_tips_and_skips_frames_without_one():
    image, mask = _frame()
    found = np.zeros(CROP, np.uint8)
    found[62:67, 60:100] = NEEDLE
    no_needle = np.where(mask == NEEDLE, 0, mask).astype(np.uint8)
    base, crop = _Base(mask), _CropStub(found)
    refined = TipRefinedPredictor(base, crop)
    out = refined.predict([image])[0]
    assert (out[238:243, 364:400] == NEEDLE).all() and refined.labels is ICSI and refined.size == (240, 320)
    crop.seen.clear()
    assert np.array_equal(TipRefinedPredictor(_Base(no_needle), crop).predict([image])[0], no_needle)
    assert crop.seen == []  # no tip, no second look


def test_refined_predictor_refuses_mismatched_label_sets():
    class Inclusions(_Base):
        labels = INCLUSIONS

    with pytest.raises(OocytesegError, match="needle class"):
        TipRefinedPredictor(Inclusions(np.zeros(CROP, np.uint8)), _CropStub(np.zeros(CROP, np.uint8)))
    with pytest.raises(OocytesegError, match="classes"):
        TipRefinedPredictor(_Base(np.zeros(CROP, np.uint8)), Inclusions(np.zeros(CROP, np.uint8)))


def test_tip_model_option(tiny_phantom, tiny_checkpoint, tmp_path, capsys):
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    out = tmp_path / "a"
    assert main(["analyze", str(video), "--model", str(tiny_checkpoint), "--out", str(out), "--backend", "onnx",
                 "--tip-model", str(tiny_checkpoint), "--no-overlay"]) == 0
    info = json.loads((out / "case01" / "case01" / "analysis.json").read_text())["model"]
    assert info["tip_model"]["size"] == list(CROP) and info["tip_model"]["backend"] == "onnx"
    wrong = tmp_path / "wrong.onnx"
    assert main(["export", str(tiny_checkpoint), "--onnx", str(wrong)]) == 0  # at its training size, not the crop's
    capsys.readouterr()
    assert main(["analyze", str(video), "--model", str(tiny_checkpoint), "--out", str(tmp_path / "b"),
                 "--tip-model", str(wrong)]) == 2
    assert "128x192" in capsys.readouterr().err
