"""The shared model tester: every registered model goes through the same checks.

Tiny variants and the cheap full-size models get every check; the heavy full-size models
(ResNet-50 based) are checked at small inputs only, their tiny twins cover the rest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oocyteseg.models import create_model, export_onnx, get_model_entry, list_models, load_checkpoint, make_model_config
from oocyteseg.models import save_checkpoint
from oocyteseg.models.checkpoint import with_default_options
from oocyteseg.models.layers import first_conv

torch.set_num_threads(1)

NUM_CLASSES = 4
HEAVY = {"smanet", "deeplabv3_resnet50", "deeplabv3plus_resnet50"}
LIGHT = [n for n in list_models() if n not in HEAVY]


def test_heavy_models_are_still_registered() -> None:
    assert HEAVY <= set(list_models())


@pytest.fixture(scope="module", params=list_models())
def named_model(request: pytest.FixtureRequest) -> tuple[str, torch.nn.Module]:
    torch.manual_seed(0)
    return request.param, create_model(request.param, num_classes=NUM_CLASSES)


def _sizes(name: str) -> list[tuple[int, int]]:
    if name in HEAVY:
        return [(64, 48), (33, 31)]
    return [(480, 640), (256, 256), (257, 255)]


def test_logits_have_the_input_size(named_model: tuple[str, torch.nn.Module]) -> None:
    name, model = named_model
    model.eval()
    for h, w in _sizes(name):
        with torch.no_grad():
            out = model(torch.rand(1, 3, h, w))
        assert isinstance(out, torch.Tensor), f"{name} returned {type(out).__name__}"
        assert out.shape == (1, NUM_CLASSES, h, w), f"{name} at {h}x{w}"
        assert torch.isfinite(out).all()


def test_gradients_reach_the_first_layer(named_model: tuple[str, torch.nn.Module]) -> None:
    name, model = named_model
    model.train()
    model.zero_grad()
    x = torch.rand(2, 3, 64, 64)  # batch 2: ASPP's image-pooling BatchNorm needs > 1 value in training
    target = torch.randint(0, NUM_CLASSES, (2, 64, 64))
    F.cross_entropy(model(x), target).backward()
    grad = first_conv(model)[2].weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name


def test_eval_output_is_deterministic(named_model: tuple[str, torch.nn.Module]) -> None:
    name, model = named_model
    model.eval()
    x = torch.rand(2, 3, 64, 72)
    with torch.no_grad():
        assert torch.equal(model(x), model(x)), name


@pytest.mark.parametrize("name", LIGHT)
def test_onnx_runtime_agrees_with_torch(name: str, tmp_path: Path) -> None:
    import onnxruntime as ort

    torch.manual_seed(1)
    model = create_model(name, num_classes=NUM_CLASSES).eval()
    h, w = 97, 80
    path = export_onnx(model, tmp_path / f"{name}.onnx", h, w)
    x = torch.rand(2, 3, h, w)  # exported with batch 1: checks the dynamic batch axis too
    with torch.no_grad():
        expected = model(x).numpy()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x.numpy()})[0]
    assert got.shape == expected.shape
    agreement = float(np.mean(got.argmax(1) == expected.argmax(1)))
    assert agreement >= 0.999, f"{name}: argmax agrees on {agreement:.4%} of pixels"


@pytest.mark.parametrize("name", LIGHT)
def test_checkpoint_round_trip(name: str, tmp_path: Path) -> None:
    config = make_model_config(name, num_classes=NUM_CLASSES, in_channels=3)
    model = create_model(name, NUM_CLASSES).eval()
    save_checkpoint(tmp_path / "model.pt", model, config, extra={"name": name})
    loaded, loaded_config, extra = load_checkpoint(tmp_path / "model.pt")
    # the saved config is the given one with every builder default written in (see with_default_options)
    assert loaded_config == with_default_options(config) and extra == {"name": name}
    assert {k: loaded_config[k] for k in ("name", "num_classes", "in_channels")} == {k: config[k] for k in ("name", "num_classes", "in_channels")}
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x)), name


@pytest.mark.parametrize("name", list_models(include_tiny=False))
def test_tiny_twin_is_smaller(name: str) -> None:
    # Speed is measured by `benchmarks/models.py --tiny` (no timed unit tests); here: it is smaller.
    full = sum(p.numel() for p in create_model(name, NUM_CLASSES).parameters())
    tiny = sum(p.numel() for p in create_model(f"{name}_tiny", NUM_CLASSES).parameters())
    assert get_model_entry(f"{name}_tiny").tiny and tiny < full / 5, (name, tiny, full)
