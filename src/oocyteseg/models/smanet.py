"""SMANet: Segmentation Multiscale Attention Network (Bonechi et al., PRL 138, 2020).

Used by Andreini et al. for oocyte inclusions. The paper's description (section 2.2) fixes the parts
below; where it is open, the choice follows "attention to scale" (Chen et al., CVPR 2016: one
shared network on rescaled copies of the image, per-pixel softmax over scales).

    image ──────────────┬─ ResNet-50, dilated, stride 8 ── f1 (2048, H/8) ── 1x1 conv ── r1 (256) ─┐
      └─ resize x0.5 ── │─ same ResNet-50 (shared) ──────── f2 (2048, H/16) ─ 1x1 conv ── r2 ── up ─┤
                        │                                                                          │
                        │   attention head: concat(r1, r2) → 3x3 conv → 1x1 conv → 2 maps          │
                        │                   → softmax over the 2 scales → a1, a2                    │
                        │   fused = a1 ⊙ r1 + a2 ⊙ r2  ──── 1x1 conv ── coarse prediction (H/8)    │
                        │                                                                          │
                        ├─ layer1 (256, H/4) ─ 1x1 → 48 ─┐                                          │
                        └─ stem   (64,  H/2) ─ 1x1 → 24 ─│─┐                                        │
      decoder level 1: up(concat(fused, coarse)) ⊕ skip H/4 → two 3x3 convs (256)                  │
      decoder level 2: up(level 1) ⊕ skip H/2 → two 3x3 convs (128) → 1x1 conv → up to H x W logits

Which paper sentence each part comes from (Andreini et al. §2.2):
- "ResNet50 architecture with dilated convolution (i.e. atrous convolution)": `resnet50_trunk`,
  output stride 8 (layer3, layer4 dilated 2 and 4), as DeepLab and attention-to-scale do.
- "an attention module providing pixel-wise attention ... returning two attention maps": two maps,
  one per scale, so two input scales (1 and 0.5, Chen et al.'s best two-scale setting); the maps
  are normalised with a softmax over scales at each pixel (Chen et al.'s attention model: 3x3
  conv + ReLU, then 1x1 conv to one channel per scale).
- "pixel-wise multiplied with the CNN encoded representation, previously passed through a 1 by 1
  convolutional layer to conveniently reduce the feature map dimensions": `reduce` (2048 → 256,
  shared across scales); fused = Σ_s a_s ⊙ reduce(f_s). The attention head reads the reduced maps
  (not the 2048-channel ones) so it costs ~1/16 of a head on the raw features.
- "The SMANet attention module, which outputs a pixel-wise prediction": `classifier` on the fused
  features (returned as the auxiliary output of `forward_with_aux`, for deep supervision).
- "followed by a two level decoder to recover small details at a higher resolution": two
  DeepLabV3+-style levels, stride 8 → 4 (skip: layer1) → 2 (skip: stem), each skip reduced by a
  1x1 conv so the coarse semantics dominate; the first level also sees the coarse prediction.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import ResNet

from oocyteseg.models.layers import adapt_first_conv
from oocyteseg.models.registry import register_model
from oocyteseg.models.resnet_trunk import resnet50_trunk


def _conv_bn_relu(cin: int, cout: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class SMANet(nn.Module):
    """ResNet encoder + multiscale attention + two-level decoder; forward returns logits at input size.

    Args:
        encoder: a torchvision ResNet (fc removed) with 64/256/.../2048 stage channels.
        num_classes: output classes.
        scales: input scales; the first must be 1.0 (its features and skips drive the decoder).
        reduced_channels: channels after the 1x1 reduction of the encoded features.
        attention_channels: width of the attention head's 3x3 conv.
        skip_channels: 1x1-reduced channels of the layer1 and stem skips.
        decoder_channels: channels of decoder levels 1 and 2.
    """

    def __init__(
        self,
        *,
        encoder: ResNet,
        num_classes: int,
        scales: tuple[float, ...] = (1.0, 0.5),
        reduced_channels: int = 256,
        attention_channels: int = 256,
        skip_channels: tuple[int, int] = (48, 24),
        decoder_channels: tuple[int, int] = (256, 128),
    ):
        super().__init__()
        if not scales or scales[0] != 1.0:
            raise ValueError(f"scales must start with 1.0, got {scales}")
        self.scales = tuple(float(s) for s in scales)
        self.encoder = encoder
        self.reduce = _conv_bn_relu(2048, reduced_channels, 1)
        self.attention = nn.Sequential(
            _conv_bn_relu(reduced_channels * len(scales), attention_channels, 3),
            nn.Conv2d(attention_channels, len(scales), 1),
        )
        self.classifier = nn.Conv2d(reduced_channels, num_classes, 1)
        self.skip1 = _conv_bn_relu(256, skip_channels[0], 1)
        self.skip2 = _conv_bn_relu(64, skip_channels[1], 1)
        self.decoder1 = nn.Sequential(
            _conv_bn_relu(reduced_channels + num_classes + skip_channels[0], decoder_channels[0], 3),
            _conv_bn_relu(decoder_channels[0], decoder_channels[0], 3),
        )
        self.decoder2 = nn.Sequential(
            _conv_bn_relu(decoder_channels[0] + skip_channels[1], decoder_channels[1], 3),
            _conv_bn_relu(decoder_channels[1], decoder_channels[1], 3),
        )
        self.head = nn.Conv2d(decoder_channels[1], num_classes, 1)

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(stem features at H/2, layer1 features at H/4, layer4 features at H/8)."""
        e = self.encoder
        stem = e.relu(e.bn1(e.conv1(x)))
        low = e.layer1(e.maxpool(stem))
        return stem, low, e.layer4(e.layer3(e.layer2(low)))

    def attend(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(fused features, attention maps (N, scales, h, w), stem skip, layer1 skip) for image x."""
        stem, low, deep = self._encode(x)
        reduced = [self.reduce(deep)]
        for scale in self.scales[1:]:
            small = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
            reduced.append(_up(self.reduce(self._encode(small)[2]), reduced[0]))
        weights = torch.softmax(self.attention(torch.cat(reduced, dim=1)), dim=1)
        fused = sum(weights[:, i : i + 1] * r for i, r in enumerate(reduced))
        return fused, weights, stem, low

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(final logits, attention module's coarse logits), both at the input size."""
        fused, _, stem, low = self.attend(x)
        coarse = self.classifier(fused)
        d = _up(torch.cat([fused, coarse], dim=1), low)
        d = self.decoder1(torch.cat([d, self.skip1(low)], dim=1))
        d = self.decoder2(torch.cat([_up(d, stem), self.skip2(stem)], dim=1))
        return _up(self.head(d), x), _up(coarse, x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]


def _smanet(
    name: str,
    num_classes: int,
    in_channels: int,
    backbone_weights: str | os.PathLike | None,
    output_stride: int,
    scales: tuple[float, ...],
    tiny: bool,
) -> SMANet:
    encoder = resnet50_trunk(output_stride=output_stride, tiny=tiny, model_name=name, backbone_weights=backbone_weights)
    widths = {"reduced_channels": 16, "attention_channels": 16, "skip_channels": (8, 8), "decoder_channels": (16, 8)}
    model = SMANet(encoder=encoder, num_classes=num_classes, scales=tuple(scales), **(widths if tiny else {}))
    adapt_first_conv(model, in_channels)
    return model


@register_model(
    "smanet",
    description="SMANet: dilated ResNet-50 (stride 8) on scales 1 and 0.5, attention over scales, 2-level decoder",
    backbone="resnet50",
)
def smanet(
    *,
    num_classes: int,
    in_channels: int = 3,
    backbone_weights: str | os.PathLike | None = None,
    output_stride: int = 8,
    scales: tuple[float, ...] = (1.0, 0.5),
) -> SMANet:
    """SMANet (Andreini et al.); `backbone_weights`: torchvision resnet50 ImageNet .pth.

    `output_stride` 16 roughly halves the encoder's cost; `scales` must start with 1.0.
    """
    return _smanet("smanet", num_classes, in_channels, backbone_weights, output_stride, scales, tiny=False)


@register_model(
    "smanet_tiny",
    description="SMANet on a 1-block-per-stage quarter-width ResNet-50, 16-channel heads (tests)",
    tiny=True,
)
def smanet_tiny(
    *,
    num_classes: int,
    in_channels: int = 3,
    backbone_weights: str | os.PathLike | None = None,
    output_stride: int = 8,
    scales: tuple[float, ...] = (1.0, 0.5),
) -> SMANet:
    """Few-channel SMANet for tests (same structure, same forward)."""
    return _smanet("smanet_tiny", num_classes, in_channels, backbone_weights, output_stride, scales, tiny=True)
