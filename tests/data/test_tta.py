"""Flip test-time augmentation in the one preprocessing path: mirrored logits come back onto the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oocyteseg.data.preprocess import InputSpec, logits_to_labels, mirror_images, predict_labels, torch_runner
from oocyteseg.inference.predictor import TorchPredictor, device_labels


def _model() -> torch.nn.Module:
    torch.manual_seed(0)  # not mirror-symmetric: a 5x5 convolution at half resolution, then 4 classes
    return torch.nn.Sequential(torch.nn.AvgPool2d(2), torch.nn.Conv2d(3, 4, 5, padding=2)).eval()


def _images(hw: tuple[int, int], n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    smooth = [rng.integers(0, 256, (hw[0] // 6 + 1, hw[1] // 6 + 1, 3), dtype=np.uint8) for _ in range(n)]
    import cv2

    return [cv2.resize(s, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR) for s in smooth]


def _agree(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(np.mean([np.mean(x == y) for x, y in zip(a, b)]))


@pytest.mark.parametrize("hw,resize", [((96, 128), "stretch"), ((90, 101), "letterbox"), ((90, 101), "stretch")])
def test_flip_tta_is_mirror_equivariant_and_averages_the_mirrored_logits(hw, resize):
    run = torch_runner(_model())
    plain, flip = InputSpec((48, 64), resize_policy=resize), InputSpec((48, 64), resize_policy=resize, tta="flip")
    images = _images(hw)
    mirrored = mirror_images(images)
    # by hand: the logits of the image and of its mirror image mirrored back, averaged, then the usual labels
    expected = []
    for im, mi in zip(images, mirrored):
        a, b = run(plain.batch([im]))[0], run(plain.batch([mi]))[0]
        rows, cols = plain.valid_region(hw, a.shape[1:])
        mean = (a[:, rows, cols] + b[:, rows, cols][..., ::-1]) / 2
        expected.append(logits_to_labels(mean, *hw))
    got = predict_labels(run, images, flip, batch_size=2)
    assert _agree(got, expected) > 0.999
    # a mirrored frame gets the mirrored labels (odd letterbox padding included); the plain model does not
    assert _agree(predict_labels(run, mirrored, flip), [m[:, ::-1] for m in got]) > 0.999
    plain_got = predict_labels(run, images, plain)
    assert _agree(predict_labels(run, mirrored, plain), [m[:, ::-1] for m in plain_got]) < 0.99
    assert _agree(plain_got, got) < 0.999  # TTA changes the prediction
    assert len({int(v) for m in got for v in np.unique(m)}) > 1


def test_flip_tta_on_the_device_path_equals_the_cpu_path():
    spec = InputSpec((48, 64), resize_policy="letterbox", tta="flip")
    predictor = TorchPredictor(_model(), spec, device="cpu")
    images = _images((90, 101))
    cpu = predictor.predict(images, batch_size=4)
    dev = device_labels(predictor.model, spec.batch(images), (90, 101), spec, torch.device("cpu"),
                        spec.batch(mirror_images(images)))
    assert _agree(cpu, dev) > 0.999


def test_unknown_tta_is_refused_listing_the_valid_ones():
    with pytest.raises(ValueError, match="none, flip"):
        InputSpec((48, 64), tta="rotate")
    assert InputSpec((48, 64)).with_tta("flip").tta == "flip" and InputSpec((48, 64)).with_tta(None).tta == "none"
