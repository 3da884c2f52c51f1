"""Fixed "same" padding for export: TF-style convolutions (timm's `Conv2dSame`, used by the
`tf_efficientnet_lite0` encoder for its stride-2 layers) compute their padding from the input size at
every call, which the ONNX exporter traces as Shape/Gather/Ceil/Pad chains. ONNX Runtime cannot fuse
such a Pad into its convolution, and every unfused Pad also forces a layout reorder (NCHWc <-> NCHW).
For a model exported at one fixed input size the padding is a constant: `freeze_same_padding` replaces
each such layer by a convolution with that constant padding, which is numerically the same operation
and which ONNX Runtime folds into the Conv node (measured in docs/performance.md).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from timm.layers.conv2d_same import Conv2dSame
from timm.layers.padding import get_same_padding
from torch import nn


class _ConstantPad(torch.autograd.Function):
    """Zero padding that the ONNX exporter writes as one Pad node with constant pads (torch's own export of
    F.pad computes the pads from the input's rank at run time, which ONNX Runtime cannot fold)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:  # noqa: D102
        return F.pad(x, pad)

    @staticmethod
    def symbolic(g, x, pad):  # noqa: D102 - ONNX pads order: all begins (N, C, H, W), then all ends
        left, right, top, bottom = pad
        pads = g.op("Constant", value_t=torch.tensor([0, 0, top, left, 0, 0, bottom, right], dtype=torch.int64))
        return g.op("Pad", x, pads, mode_s="constant")


class FixedPadConv2d(nn.Conv2d):
    """A convolution preceded by a constant zero padding (left, right, top, bottom), possibly asymmetric."""

    def __init__(self, conv: nn.Conv2d, pad: tuple[int, int, int, int]):
        super().__init__(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, 0, conv.dilation,
                         conv.groups, conv.bias is not None, device=conv.weight.device, dtype=conv.weight.dtype)
        self.weight = conv.weight
        self.bias = conv.bias
        self.fixed_pad = tuple(int(v) for v in pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = _ConstantPad.apply(x, self.fixed_pad) if torch.onnx.is_in_onnx_export() else F.pad(x, self.fixed_pad)
        return F.conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _same_pad(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding as timm's `pad_same` splits it."""
    total = get_same_padding(size, kernel, stride, dilation)
    return total // 2, total - total // 2


def freeze_same_padding(model: nn.Module, example: torch.Tensor) -> tuple[nn.Module, int]:
    """A copy of `model` whose input-dependent "same"-padding convolutions are fixed for `example`'s size.

    Returns (model, number of layers replaced); the model itself is returned unchanged when it has none.
    """
    targets = [name for name, m in model.named_modules() if isinstance(m, Conv2dSame)]
    if not targets:
        return model, 0
    model = copy.deepcopy(model)
    sizes: dict[str, tuple[int, int]] = {}
    hooks = [model.get_submodule(name).register_forward_pre_hook(
        lambda _m, args, name=name: sizes.__setitem__(name, tuple(args[0].shape[-2:]))) for name in targets]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    for name in targets:
        conv = model.get_submodule(name)
        (h, w), (kh, kw), (sh, sw), (dh, dw) = sizes[name], conv.kernel_size, conv.stride, conv.dilation
        top, bottom = _same_pad(h, kh, sh, dh)
        left, right = _same_pad(w, kw, sw, dw)
        parent, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, attr, FixedPadConv2d(conv, (left, right, top, bottom)))
    return model, len(targets)
