"""Fixed "same" padding at export: the same numbers as timm's input-dependent padding, and an ONNX graph
whose Pad nodes take constant pads (so ONNX Runtime folds them into the convolutions)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oocyteseg.models import create_model, export_onnx
from oocyteseg.models.static_padding import FixedPadConv2d, freeze_same_padding

torch.set_num_threads(1)


@pytest.mark.parametrize("hw", [(96, 128), (97, 131)])  # even, and odd sizes (other asymmetric pads)
def test_frozen_padding_gives_the_same_logits(hw):
    from timm.layers.conv2d_same import Conv2dSame

    model = create_model("unet_effnet_lite0", num_classes=4).eval()
    n_same = sum(isinstance(m, Conv2dSame) for m in model.modules())
    assert n_same >= 5  # the tf_ encoder's stride-2 layers
    x = torch.randn(2, 3, *hw)
    frozen, replaced = freeze_same_padding(model, x[:1])
    assert replaced == n_same
    assert not any(isinstance(m, Conv2dSame) for m in frozen.modules())
    assert sum(isinstance(m, FixedPadConv2d) for m in frozen.modules()) == n_same
    assert any(isinstance(m, Conv2dSame) for m in model.modules())  # the caller's model is not changed
    with torch.no_grad():
        assert torch.equal(frozen(x), model(x))


def test_a_model_without_same_padding_is_returned_as_is():
    model = create_model("unet_small_tiny", num_classes=3)
    same, replaced = freeze_same_padding(model, torch.zeros(1, 3, 64, 64))
    assert same is model and replaced == 0


def test_exported_pads_are_constants_and_outputs_match(tmp_path):
    import onnx
    import onnxruntime as ort

    torch.manual_seed(0)  # the same weights whichever tests ran before
    model = create_model("unet_effnet_lite0", num_classes=4).eval()
    path = export_onnx(model, tmp_path / "m.onnx", 96, 128)
    graph = onnx.load(str(path)).graph
    produced_by = {out: node for node in graph.node for out in node.output}
    initializers = {i.name for i in graph.initializer}
    pads = [n for n in graph.node if n.op_type == "Pad"]
    assert pads
    for node in pads:  # pads input is a Constant node or an initializer, never computed from Shape
        src = node.input[1]
        assert src in initializers or produced_by[src].op_type == "Constant", node.name
    assert not any(n.op_type in ("Ceil", "Mod") and "conv_dw" in n.name for n in graph.node)
    x = np.random.default_rng(0).standard_normal((2, 3, 96, 128)).astype(np.float32)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    # float32 sums in another order differ by ~1e-4 on logits of ~1; a wrong pad shifts them by ~0.1
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
