"""A small plain U-Net (Ronneberger et al. 2015) in pure PyTorch: the smallest fast CPU model.

Max-pool down, bilinear up to the skip's exact size (so any H x W works without padding),
two 3x3 conv-BN-ReLU per level. No pretrained backbone exists for it.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from oocyteseg.errors import OocytesegError
from oocyteseg.models.registry import register_model


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SmallUNet(nn.Module):
    """U-Net with `depth` poolings and `base_channels * 2**level` channels per level."""

    def __init__(self, *, num_classes: int, in_channels: int, base_channels: int, depth: int):
        super().__init__()
        chans = [base_channels * 2**i for i in range(depth + 1)]
        self.stem = _double_conv(in_channels, chans[0])
        self.down = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), _double_conv(chans[i], chans[i + 1])) for i in range(depth)
        )
        self.up = nn.ModuleList(_double_conv(chans[i + 1] + chans[i], chans[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(chans[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()
        for block in self.up:
            skip = skips.pop()
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        return self.head(x)


def _no_backbone(name: str, backbone_weights: str | os.PathLike | None) -> None:
    if backbone_weights is not None:
        raise OocytesegError(
            f"model {name!r} has no pretrained backbone", backbone_weights, fix="omit backbone_weights for this model"
        )


@register_model("unet_small", description="plain U-Net, 8-16-32-64-128 channels, no backbone - fast CPU model")
def unet_small(
    *,
    num_classes: int,
    in_channels: int = 3,
    backbone_weights: str | os.PathLike | None = None,
    base_channels: int = 8,
    depth: int = 4,
) -> nn.Module:
    """Small U-Net trained from scratch; `base_channels` and `depth` set its size."""
    _no_backbone("unet_small", backbone_weights)
    return SmallUNet(num_classes=num_classes, in_channels=in_channels, base_channels=base_channels, depth=depth)


@register_model("unet_small_tiny", description="plain U-Net, 4-8-16 channels (tests)", tiny=True)
def unet_small_tiny(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """Few-channel U-Net for tests."""
    _no_backbone("unet_small_tiny", backbone_weights)
    return SmallUNet(num_classes=num_classes, in_channels=in_channels, base_channels=4, depth=2)
