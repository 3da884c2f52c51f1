"""`trainer.channels_last`: the model trains on NHWC weights and batches, computes what the NCHW model computes,
and the portable model it writes has the usual (contiguous) layout."""

from __future__ import annotations

import torch

from oocyteseg.models import load_checkpoint
from oocyteseg.training.config import config_from_dict
from oocyteseg.training.engine import train
from oocyteseg.training.module import SegmentationModule

from .conftest import tiny_config_dict


def _module(manifest, channels_last: bool) -> SegmentationModule:
    raw = tiny_config_dict(manifest, trainer={"accelerator": "cpu", "channels_last": channels_last})
    torch.manual_seed(0)
    return SegmentationModule(config_from_dict(raw).to_dict())


def test_channels_last_module_computes_what_the_contiguous_one_does(tiny_phantom):
    nhwc, nchw = _module(tiny_phantom, True), _module(tiny_phantom, False)
    nchw.model.load_state_dict(nhwc.model.state_dict())
    convs = [m.weight for m in nhwc.model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert any(not w.is_contiguous() for w in convs)  # (a 1x1 kernel on one channel is both layouts at once)
    assert all(m.weight.is_contiguous() for m in nchw.model.modules() if isinstance(m, torch.nn.Conv2d))
    x = torch.rand(2, 3, 48, 64)  # the loader's NCHW batch: the module converts it
    nhwc.eval()
    nchw.eval()
    with torch.no_grad():
        torch.testing.assert_close(nhwc(x), nchw(x), rtol=1e-4, atol=1e-5)


def test_channels_last_run_writes_a_contiguous_portable_model(tiny_phantom, tmp_path):
    cfg = config_from_dict(tiny_config_dict(tiny_phantom))
    assert cfg.trainer.channels_last  # the default
    result = train(cfg, tmp_path / "run", progress=False)
    for path in (result.model_path, tmp_path / "run" / "model-last.pt"):
        model, _, _ = load_checkpoint(path)
        state = torch.load(path, map_location="cpu", weights_only=False)
        tensors = [v for v in _tensors(state) if v.dim() == 4]
        assert tensors and all(v.is_contiguous() for v in tensors), path
        assert model(torch.zeros(1, 3, 48, 64)).shape == (1, 4, 48, 64)


def _tensors(obj):
    """Every tensor inside a nested checkpoint structure."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)
