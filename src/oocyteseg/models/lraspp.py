"""LR-ASPP with a MobileNetV3-Large backbone (torchvision), the fast CPU model.

Built from torchvision's public pieces (`mobilenet_v3_large`, `LRASPP`) exactly as torchvision's
`lraspp_mobilenet_v3_large` does, so the tiny variant can shrink the width; never downloads.
"""

from __future__ import annotations

import os

from torch import nn
from torchvision.models import mobilenet_v3_large
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.segmentation.lraspp import LRASPP

from oocyteseg.models.layers import OutputOnly, adapt_first_conv
from oocyteseg.models.registry import register_model
from oocyteseg.models.weights import load_backbone_weights


def _lraspp(
    name: str,
    num_classes: int,
    in_channels: int,
    backbone_weights: str | os.PathLike | None,
    width_mult: float,
    inter_channels: int,
) -> nn.Module:
    net = mobilenet_v3_large(weights=None, width_mult=width_mult, dilated=True)
    if backbone_weights is not None:
        load_backbone_weights(
            net.features,
            backbone_weights,
            model_name=name,
            backbone="mobilenet_v3_large",
            rename=lambda k: k.removeprefix("features."),
        )
    features = net.features
    # Strided blocks mark the stages C1..Cn-1; torchvision takes C2 (stride 8) and the last block.
    stages = [0] + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)] + [len(features) - 1]
    low, high = stages[-4], stages[-1]
    backbone = IntermediateLayerGetter(features, return_layers={str(low): "low", str(high): "high"})
    model = LRASPP(backbone, features[low].out_channels, features[high].out_channels, num_classes, inter_channels)
    adapt_first_conv(model, in_channels)
    return OutputOnly(model)


@register_model(
    "lraspp_mobilenet_v3",
    description="LR-ASPP, MobileNetV3-Large (dilated, stride 16) - fast CPU model (torchvision)",
    backbone="mobilenet_v3_large",
)
def lraspp_mobilenet_v3(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """torchvision's LR-ASPP MobileNetV3-Large; `backbone_weights`: mobilenet_v3_large ImageNet .pth."""
    return _lraspp("lraspp_mobilenet_v3", num_classes, in_channels, backbone_weights, 1.0, 128)


@register_model(
    "lraspp_mobilenet_v3_tiny",
    description="LR-ASPP, MobileNetV3-Large at width 0.25, 16 head channels (tests)",
    tiny=True,
)
def lraspp_mobilenet_v3_tiny(
    *, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None
) -> nn.Module:
    """Few-channel LR-ASPP for tests (no matching pretrained file exists)."""
    return _lraspp("lraspp_mobilenet_v3_tiny", num_classes, in_channels, backbone_weights, 0.25, 16)
