"""Small wrappers shared by the architectures: size handling, dict unwrapping, input channels."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class PadToMultiple(nn.Module):
    """Run `model` on the input padded to a multiple of `multiple`, then crop the logits back.

    smp encoder-decoders need sides divisible by their output stride; edge padding (replicate)
    lets them take any H x W (e.g. 257 x 255) and still return logits at the input size.
    """

    def __init__(self, model: nn.Module, multiple: int):
        super().__init__()
        self.model = model
        self.multiple = multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = int(x.shape[-2]), int(x.shape[-1])
        pad_h, pad_w = (-h) % self.multiple, (-w) % self.multiple
        if pad_h == 0 and pad_w == 0:
            return self.model(x)
        top, left = pad_h // 2, pad_w // 2
        x = F.pad(x, (left, pad_w - left, top, pad_h - top), mode="replicate")
        return self.model(x)[..., top : top + h, left : left + w]


class OutputOnly(nn.Module):
    """Unwrap torchvision segmentation models' `{"out": logits, ...}` into the logits tensor."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)["out"]


def first_conv(module: nn.Module) -> tuple[nn.Module, str, nn.Conv2d]:
    """(parent, attribute name, conv) of the first Conv2d in `module`."""
    for name, child in module.named_modules():
        if isinstance(child, nn.Conv2d):
            parent_name, _, attr = name.rpartition(".")
            parent = module.get_submodule(parent_name) if parent_name else module
            return parent, attr, child
    raise ValueError("module has no Conv2d")


def input_channels(model: nn.Module) -> int:
    """Number of input channels of a model (those of its first convolution)."""
    return first_conv(model)[2].in_channels


@torch.no_grad()
def adapt_first_conv(module: nn.Module, in_channels: int) -> None:
    """Give the first convolution `in_channels` inputs, reusing its (possibly pretrained) RGB filters.

    One channel gets the sum of the RGB filters; more channels cycle through them scaled by
    3/in_channels, so a grey or multi-channel image gives activations of the usual magnitude.
    """
    parent, attr, conv = first_conv(module)
    if conv.in_channels == in_channels:
        return
    new = nn.Conv2d(
        in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.bias is not None,
        conv.padding_mode,
    )
    old = conv.weight
    if in_channels == 1:
        new.weight.copy_(old.sum(dim=1, keepdim=True))
    else:
        idx = torch.arange(in_channels) % old.shape[1]
        new.weight.copy_(old[:, idx] * (old.shape[1] / in_channels))
    if conv.bias is not None:
        new.bias.copy_(conv.bias)
    setattr(parent, attr, new)
