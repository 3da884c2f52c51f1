"""The one arg-max over the class axis (logits -> labels): equal to NumPy's / torch's arg-max, ties included
(the first class wins), for one image (C, H, W) and for a batch (N, C, H, W)."""

from __future__ import annotations

import numpy as np
import torch

from oocyteseg.data.preprocess import argmax_classes, argmax_classes_torch, logits_to_labels


def _logits(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=shape).astype(np.float32)  # few distinct values: many ties
    x[..., :2, :] = rng.normal(size=x[..., :2, :].shape)
    return x


def test_argmax_classes_equals_numpy_with_ties():
    for seed, c in ((0, 2), (1, 4), (2, 7)):
        x = _logits(seed, (c, 9, 11))
        got = argmax_classes(x)
        assert got.dtype == np.uint8 and np.array_equal(got, x.argmax(0))
        # native-size logits go through it in the one path
        assert np.array_equal(logits_to_labels(x, 9, 11), x.argmax(0))


def test_argmax_classes_torch_equals_torch_with_ties():
    for seed, c in ((3, 2), (4, 4), (5, 6)):
        x = torch.from_numpy(_logits(seed, (3, c, 9, 11)))
        got = argmax_classes_torch(x)
        assert got.dtype == torch.uint8 and torch.equal(got.long(), x.argmax(1))
        assert np.array_equal(got.numpy()[1], argmax_classes(x[1].numpy()))
