"""The `_hr` model's native-resolution head run at half resolution (eval mode) gives the head's own output."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from oocyteseg.models import create_model
from oocyteseg.models.native_head import native_head_half_resolution


def _trained_like(model: torch.nn.Module) -> torch.nn.Module:
    """Random head weights and BatchNorm statistics, as after training (the output layer starts at zero)."""
    torch.manual_seed(1)
    conv, bn, _, out = model.native_head
    for t in (conv.weight, out.weight, out.bias, bn.weight, bn.bias, bn.running_mean):
        t.data.normal_()
    bn.running_var.data.uniform_(0.5, 2.0)
    return model.eval()


def _reference(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The head as trained: upsample the features, concatenate the image, 3x3 conv at full resolution."""
    h, w = x.shape[-2:]
    xe = F.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
    features, coarse = model.features_and_logits(F.avg_pool2d(xe, 2))
    up = dict(scale_factor=2.0, mode="bilinear", align_corners=False)
    head = model.native_head(torch.cat([F.interpolate(features, **up), xe], 1))
    return (F.interpolate(coarse, **up) + head)[..., :h, :w]


@pytest.mark.parametrize("hw", [(96, 128), (95, 127), (8, 12)])
def test_half_resolution_head_equals_the_head_everywhere_border_included(hw):
    model = _trained_like(create_model("unet_effnet_lite0_hr_tiny", num_classes=4))
    x = torch.randn(2, 3, *hw)
    with torch.no_grad():
        expected, fast = _reference(model, x), model(x)
    assert fast.shape == expected.shape == (2, 4, *hw)
    assert torch.allclose(fast, expected, atol=1e-5), (fast - expected).abs().max()
    # the outermost ring is where the half-resolution form needs its correction: checked on its own
    ring = torch.ones(hw, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    assert torch.allclose(fast[..., ring], expected[..., ring], atol=1e-5)


def test_the_function_on_its_own_matches_the_head_for_odd_channel_counts():
    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Conv2d(5 + 3, 6, 3, padding=1, bias=False), torch.nn.BatchNorm2d(6),
                               torch.nn.ReLU(), torch.nn.Conv2d(6, 3, 1))
    head[1].running_mean.normal_()
    head[1].running_var.uniform_(0.5, 2)
    head.eval()
    feats, x = torch.randn(1, 5, 7, 9, dtype=torch.float64), torch.randn(1, 3, 14, 18, dtype=torch.float64)
    head = head.double()
    up = F.interpolate(feats, scale_factor=2.0, mode="bilinear", align_corners=False)
    with torch.no_grad():
        assert torch.allclose(native_head_half_resolution(head, feats, x), head(torch.cat([up, x], 1)), atol=1e-12)


def test_training_mode_keeps_the_full_resolution_head_and_gradients_reach_it():
    """In training the head's BatchNorm uses the batch's statistics, which the folded half-resolution form cannot:
    the output must be the full-resolution head's, with batch statistics."""
    import copy

    model = _trained_like(create_model("unet_effnet_lite0_hr_tiny", num_classes=4)).train()
    x = torch.randn(2, 3, 64, 64)
    reference = _reference(copy.deepcopy(model), x)
    assert torch.allclose(model(x), reference, atol=1e-5)
    with torch.no_grad():  # and the eval-mode (running statistics) output is a different one
        assert not torch.allclose(copy.deepcopy(model).eval()(x), reference, atol=1e-3)
    model(x).square().mean().backward()
    assert model.native_head[0].weight.grad is not None and model.native_head[0].weight.grad.abs().sum() > 0


def test_onnx_export_runs_the_half_resolution_head_and_matches_torch(tmp_path):
    import onnx
    import onnxruntime as ort

    from oocyteseg.models import export_onnx

    model = _trained_like(create_model("unet_effnet_lite0_hr_tiny", num_classes=4))
    path = export_onnx(model, tmp_path / "hr.onnx", 48, 64, 17, overwrite=True)
    ops = [n.op_type for n in onnx.load(str(path)).graph.node]
    assert "DepthToSpace" in ops and len(ops) < 1000  # the half-resolution form, its weights constants
    x = torch.randn(2, 3, 48, 64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, _reference(model, x).numpy(), atol=1e-4)
