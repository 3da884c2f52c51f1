"""The accelerator path of TorchPredictor (upsample + arg-max on the device) gives the CPU path's masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oocyteseg.data.preprocess import InputSpec
from oocyteseg.inference.predictor import TorchPredictor, device_labels
from tests.inference.conftest import make_checkpoint


@pytest.mark.parametrize("resize", ["stretch", "letterbox"])
def test_device_labels_equal_the_cpu_path(tmp_path, resize):
    torch.manual_seed(0)  # a 1x1 convolution at half resolution: varied masks, upsampling exercised
    model = torch.nn.Sequential(torch.nn.AvgPool2d(2), torch.nn.Conv2d(3, 4, 1))
    predictor = TorchPredictor(model, InputSpec((48, 64), resize_policy=resize), device="cpu")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (90, 100, 3), dtype=np.uint8) for _ in range(3)]
    cpu = predictor.predict(images, batch_size=2)
    dev = device_labels(predictor.model, predictor.spec.batch(images), (90, 100), predictor.spec, torch.device("cpu"))
    assert len(dev) == 3 and all(m.shape == (90, 100) and m.dtype == np.uint8 for m in dev)
    agree = np.mean([np.mean(a == b) for a, b in zip(cpu, dev)])
    assert agree > 0.999, agree  # float rounding of OpenCV vs torch bilinear may flip a near-tie
    assert len({int(v) for m in cpu for v in np.unique(m)}) > 1  # not a constant mask


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_predictor_equals_cpu(tmp_path):
    path = make_checkpoint(tmp_path / "m.pt")
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(5)]
    cpu = TorchPredictor.from_checkpoint(path, device="cpu").predict(images, batch_size=4)
    gpu = TorchPredictor.from_checkpoint(path, device="cuda").predict(images, batch_size=4)
    assert np.mean([np.mean(a == b) for a, b in zip(cpu, gpu)]) > 0.999
