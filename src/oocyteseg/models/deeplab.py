"""DeepLabV3-ResNet-50 (torchvision, as in Shimotsu et al.) and DeepLabV3+-ResNet-50 (smp)."""

from __future__ import annotations

import os

import segmentation_models_pytorch as smp
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.segmentation import deeplabv3_resnet50 as tv_deeplabv3_resnet50
from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3

from oocyteseg.models.layers import OutputOnly, PadToMultiple, adapt_first_conv
from oocyteseg.models.registry import register_model
from oocyteseg.models.resnet_trunk import resnet50_trunk
from oocyteseg.models.weights import load_backbone_weights, prepare_resnet_encoder


def _deeplabv3(
    name: str, num_classes: int, in_channels: int, backbone_weights: str | os.PathLike | None, tiny: bool
) -> nn.Module:
    if tiny:
        # The same assembly as torchvision's builder, on the tiny trunk with a 16-channel ASPP head.
        trunk = resnet50_trunk(output_stride=8, tiny=True, model_name=name, backbone_weights=backbone_weights)
        head = nn.Sequential(
            ASPP(2048, [12, 24, 36], out_channels=16),
            nn.Conv2d(16, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, num_classes, 1),
        )
        model = DeepLabV3(IntermediateLayerGetter(trunk, return_layers={"layer4": "out"}), head, aux_classifier=None)
    else:
        # weights_backbone defaults to downloading ImageNet weights in torchvision: disable it.
        model = tv_deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False)
        if backbone_weights is not None:
            load_backbone_weights(model.backbone, backbone_weights, model_name=name, backbone="resnet50")
    adapt_first_conv(model, in_channels)
    return OutputOnly(model)


@register_model(
    "deeplabv3_resnet50",
    description="DeepLabV3, ResNet-50 (dilated, stride 8), ASPP 12/24/36 - Shimotsu et al. (torchvision)",
    backbone="resnet50",
)
def deeplabv3_resnet50(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """torchvision's DeepLabV3-ResNet-50 (no aux head); `backbone_weights`: resnet50 ImageNet .pth."""
    return _deeplabv3("deeplabv3_resnet50", num_classes, in_channels, backbone_weights, tiny=False)


@register_model(
    "deeplabv3_resnet50_tiny",
    description="DeepLabV3 on a 1-block-per-stage quarter-width ResNet-50, 16-channel ASPP (tests)",
    tiny=True,
)
def deeplabv3_resnet50_tiny(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """Few-channel DeepLabV3 for tests."""
    return _deeplabv3("deeplabv3_resnet50_tiny", num_classes, in_channels, backbone_weights, tiny=True)


def _deeplabv3plus(
    name: str,
    num_classes: int,
    in_channels: int,
    backbone_weights: str | os.PathLike | None,
    depth: int,
    decoder_channels: int,
) -> nn.Module:
    model = smp.DeepLabV3Plus(
        encoder_name="resnet50",
        encoder_weights=None,  # never download; see backbone_weights
        encoder_depth=depth,
        encoder_output_stride=16,
        decoder_channels=decoder_channels,
        in_channels=3,
        classes=num_classes,
    )
    prepare_resnet_encoder(model.encoder, depth=depth, backbone_weights=backbone_weights, model_name=name,
                           backbone="resnet50", in_channels=in_channels)
    return PadToMultiple(model, 16)


@register_model(
    "deeplabv3plus_resnet50",
    description="DeepLabV3+, ResNet-50 (dilated, stride 16), 256-channel decoder (smp)",
    backbone="resnet50",
)
def deeplabv3plus_resnet50(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """smp DeepLabV3+ with a ResNet-50 encoder; `backbone_weights`: resnet50 ImageNet .pth."""
    return _deeplabv3plus("deeplabv3plus_resnet50", num_classes, in_channels, backbone_weights, 5, 256)


@register_model(
    "deeplabv3plus_resnet50_tiny",
    description="DeepLabV3+ on ResNet-50 stem + layer1-2 (depth 3), 16-channel decoder (tests)",
    tiny=True,
    backbone="resnet50",
)
def deeplabv3plus_resnet50_tiny(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """Depth-3 DeepLabV3+ for tests; accepts the resnet50 file (layer3-4 skipped)."""
    return _deeplabv3plus("deeplabv3plus_resnet50_tiny", num_classes, in_channels, backbone_weights, 3, 16)
