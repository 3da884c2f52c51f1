"""Resize policy: letterbox keeps the aspect (content undistorted, labels aligned), stretch is the old path."""

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from oocyteseg.data.preprocess import InputSpec, logits_to_labels, predict_labels, size_warning

IDENTITY = dict(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


def _blocks(h: int, w: int, cell: int = 20) -> np.ndarray:
    """RGB image of pure red / green / blue cells: its labels (arg-max channel) are known at every pixel."""
    cells = np.random.default_rng(0).integers(0, 3, (h // cell, w // cell))
    label = np.kron(cells, np.ones((cell, cell), np.int64))
    return (np.eye(3, dtype=np.uint8)[label] * 255), label.astype(np.uint8)


def _identity_run(batch: np.ndarray) -> np.ndarray:
    return batch.copy()  # a "model" whose logits are its input: class c = channel c


def test_same_aspect_is_bit_identical_to_stretch():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (480, 640, 3), np.uint8) for _ in range(2)]
    box, old = InputSpec((240, 320)), InputSpec((240, 320), resize_policy="stretch")
    assert np.array_equal(box.batch(images), old.batch(images))
    logits = rng.normal(size=(4, 240, 320)).astype(np.float32)
    assert np.array_equal(logits_to_labels(logits, 480, 640, box), logits_to_labels(logits, 480, 640))


def test_portrait_image_is_centred_undistorted_and_padded_by_replication():
    image, _ = _blocks(320, 240)
    spec = InputSpec((240, 320), **IDENTITY)
    assert spec.fit((320, 240)) == (0, 70, 240, 180)  # scale 0.75 both ways, centred
    x = spec.resize(image)
    assert x.shape == (240, 320, 3)
    assert np.array_equal(x[:, 70:250], cv2.resize(image, (180, 240), interpolation=cv2.INTER_AREA))
    assert (x[:, :70] == x[:, 70:71]).all() and (x[:, 250:] == x[:, 249:250]).all()  # no step at the border
    mask = spec.resize_mask(_blocks(320, 240)[1])  # placed exactly like the image
    assert mask.shape == (240, 320) and (mask[:, :70] == mask[:, 70:71]).all()


def test_labels_come_back_aligned_at_the_image_size():
    image, label = _blocks(320, 240)
    for policy in ("letterbox", "stretch"):
        out = predict_labels(_identity_run, [image], InputSpec((240, 320), resize_policy=policy, **IDENTITY))[0]
        assert out.shape == (320, 240)
        # away from cell edges every pixel gets its own cell's label (the stretch path too: same function)
        yy, xx = np.mgrid[:320, :240]
        inner = (yy % 20 > 2) & (yy % 20 < 17) & (xx % 20 > 2) & (xx % 20 < 17)
        assert (out[inner] == label[inner]).all(), policy
    # a letterbox spec that did not crop would shift the columns by the 70 px of padding
    shifted = logits_to_labels(_identity_run(InputSpec((240, 320), **IDENTITY).batch([image]))[0], 320, 240)
    assert (shifted[inner] == label[inner]).mean() < 0.8


def test_extra_records_policy_and_old_files_load_as_stretch():
    spec = InputSpec((240, 320), train_sizes=((480, 640),))
    extra = spec.as_extra()
    assert extra["resize"] == "letterbox"
    assert InputSpec.from_extra({**extra, "train_sizes": [[480, 640]]}) == spec
    old = InputSpec.from_extra({"size": [240, 320], "mean": [0.5] * 3, "std": [0.5] * 3})
    assert old.resize_policy == "stretch" and InputSpec.from_extra(None).resize_policy == "stretch"
    with pytest.raises(ValueError, match="letterbox, stretch"):
        InputSpec((240, 320), resize_policy="pad")


def test_stretch_labels_equal_the_pre_letterbox_path():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(4, 240, 320)).astype(np.float32)
    old = InputSpec.from_extra({"size": [240, 320]})
    assert np.array_equal(logits_to_labels(logits, 320, 240, old), logits_to_labels(logits, 320, 240))


def test_training_config_resize_option():
    from oocyteseg.training.config import DataConfig

    assert DataConfig(manifests=["m.csv"]).resize == "letterbox"
    with pytest.raises(ValidationError, match="letterbox, stretch"):
        DataConfig(manifests=["m.csv"], resize="squash")


def test_size_warning_says_scale_against_training_frames():
    spec = InputSpec((240, 320), train_sizes=((480, 640),))
    assert size_warning((480, 640), spec) is None
    line = size_warning((960, 1280), spec)
    assert "trained on 640x480" in line and "0.50x" in line and "\n" not in line
    assert "letterboxed" in size_warning((1080, 1920), spec)
