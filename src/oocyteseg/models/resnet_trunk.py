"""The dilated ResNet-50 trunk shared by SMANet and DeepLabV3, and its tiny variant for tests."""

from __future__ import annotations

import os

from torchvision.models import resnet50
from torchvision.models.resnet import Bottleneck, ResNet

from oocyteseg.models.weights import load_backbone_weights

# Which of layer2..layer4 trade their stride for dilation to reach each output stride.
_DILATION = {8: [False, True, True], 16: [False, False, True], 32: [False, False, False]}


def resnet50_trunk(
    *, output_stride: int, tiny: bool, model_name: str, backbone_weights: str | os.PathLike | None
) -> ResNet:
    """A torchvision ResNet-50 (avgpool and fc removed) with atrous layers for `output_stride`.

    The tiny variant keeps ResNet-50's stage channels (64/256/512/1024/2048, so heads are
    unchanged) but one bottleneck per stage at a quarter of the inner width.
    `backbone_weights` is torchvision's ImageNet resnet50 state dict (its fc keys are skipped).
    """
    if output_stride not in _DILATION:
        raise ValueError(f"output_stride must be one of {sorted(_DILATION)}, got {output_stride}")
    dilation = _DILATION[output_stride]
    if tiny:
        trunk = ResNet(Bottleneck, [1, 1, 1, 1], width_per_group=16, replace_stride_with_dilation=dilation)
    else:
        trunk = resnet50(weights=None, replace_stride_with_dilation=dilation)
    del trunk.fc, trunk.avgpool
    if backbone_weights is not None:
        load_backbone_weights(trunk, backbone_weights, model_name=model_name, backbone="resnet50")
    return trunk
