"""U-Net with a ResNet-18 encoder (segmentation-models-pytorch), a fast CPU model."""

from __future__ import annotations

import os

import segmentation_models_pytorch as smp
from torch import nn

from oocyteseg.models.layers import PadToMultiple
from oocyteseg.models.registry import register_model
from oocyteseg.models.weights import prepare_resnet_encoder


def _unet_resnet18(
    name: str,
    num_classes: int,
    in_channels: int,
    backbone_weights: str | os.PathLike | None,
    depth: int,
    decoder_channels: tuple[int, ...],
) -> nn.Module:
    model = smp.Unet(
        encoder_name="resnet18",
        encoder_weights=None,  # never download; see backbone_weights
        encoder_depth=depth,
        decoder_channels=decoder_channels,
        in_channels=3,
        classes=num_classes,
    )
    prepare_resnet_encoder(model.encoder, depth=depth, backbone_weights=backbone_weights, model_name=name,
                           backbone="resnet18", in_channels=in_channels)
    return PadToMultiple(model, 2**depth)


@register_model(
    "unet_resnet18",
    description="U-Net, ResNet-18 encoder, decoder 256-128-64-32-16 - fast CPU model (smp)",
    backbone="resnet18",
)
def unet_resnet18(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """smp U-Net with a ResNet-18 encoder; `backbone_weights`: torchvision resnet18 ImageNet .pth."""
    return _unet_resnet18("unet_resnet18", num_classes, in_channels, backbone_weights, 5, (256, 128, 64, 32, 16))


@register_model(
    "unet_resnet18_tiny",
    description="U-Net, ResNet-18 stem + layer1-2 (depth 3), decoder 32-16-8 (tests)",
    tiny=True,
    backbone="resnet18",
)
def unet_resnet18_tiny(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """Depth-3 U-Net on the first ResNet-18 stages; accepts the resnet18 file (layer3-4 skipped)."""
    return _unet_resnet18("unet_resnet18_tiny", num_classes, in_channels, backbone_weights, 3, (32, 16, 8))
