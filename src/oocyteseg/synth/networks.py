"""pix2pix networks: a U-Net generator (label map -> RGB) and a conditional PatchGAN discriminator."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from oocyteseg.synth.config import DiscriminatorConfig, GeneratorConfig


def one_hot(mask: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(N, H, W) integer label map -> (N, C, H, W) float one-hot."""
    return F.one_hot(mask.long(), num_classes).permute(0, 3, 1, 2).float()


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


def upsampling(kind: str, in_channels: int, out_channels: int, bias: bool) -> nn.Module:
    """A 2x upsampling layer of the generator's decoder.

    "transpose": pix2pix's 4x4 stride-2 transposed convolution. Its kernel overlaps unevenly on the output
    grid (each output pixel gets 4 taps, but from a different kernel phase on even and odd rows and
    columns), so it paints a period-2 checkerboard on flat regions (Odena et al., Distill 2016).
    "resize": nearest-neighbour 2x then a 3x3 convolution (Odena et al.'s resize-convolution): every output
    pixel sees the same kernel, so there is no checkerboard to unlearn.
    """
    if kind == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=bias)
    if kind == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2.0, mode="nearest"),
                             nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=bias))
    raise KeyError(f"unknown upsampling {kind!r}; valid: transpose, resize")


class UNetGenerator(nn.Module):
    """pix2pix U-Net: 4x4 stride-2 convolutions down, 2x upsampling (`upsampling`) up, skip connections.

    Any input size works: the input is padded to a multiple of 2^depth and the output cropped back.
    The output is RGB in [-1, 1] (tanh).

    `noise_channels` > 0 appends that many maps of per-pixel N(0, 1) noise to the label map: the random
    material from which a granular texture (the ooplasm's) can be painted, which a label map of a few
    spots cannot supply (StyleGAN's per-pixel noise serves the same end). Without it, the generator can only
    paint the texture's mean (a flat, blurred ooplasm) or a fixed pattern.
    """

    def __init__(self, in_channels: int, out_channels: int = 3, *, base_width: int = 16, depth: int = 6,
                 max_width: int = 128, norm: str = "instance", dropout: float = 0.0, upsample: str = "transpose",
                 noise_channels: int = 0):
        super().__init__()
        upsampling(upsample, 1, 1, False)  # an unknown name fails here, listing the valid ones
        self.depth = depth
        self.noise_channels = noise_channels
        widths = [min(base_width * 2**i, max_width) for i in range(depth)]
        self.down = nn.ModuleList()
        prev = in_channels + noise_channels
        for i, w in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(prev, w, 4, 2, 1, bias=norm != "batch" or i == 0)]
            # no norm on the outermost and innermost levels (the innermost may be 1x1)
            if 0 < i < depth - 1:
                layers.append(_norm(norm, w))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            self.down.append(nn.Sequential(*layers))
            prev = w
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            skip = widths[i - 1] if i > 0 else 0
            in_w = widths[i] if i == depth - 1 else widths[i] * 2
            if i == 0:
                layers = [upsampling(upsample, in_w, out_channels, True), nn.Tanh()]
            else:
                layers = [upsampling(upsample, in_w, skip, norm != "batch"), _norm(norm, skip)]
                if dropout > 0 and i >= depth - 3:  # pix2pix: dropout on the three innermost decoder levels
                    layers.append(nn.Dropout(dropout))
                layers.append(nn.ReLU(inplace=True))
            self.up.append(nn.Sequential(*layers))

    @classmethod
    def from_config(cls, in_channels: int, cfg: GeneratorConfig) -> UNetGenerator:
        return cls(in_channels, 3, base_width=cfg.base_width, depth=cfg.depth, max_width=cfg.max_width,
                   norm=cfg.norm, dropout=cfg.dropout, upsample=cfg.upsample, noise_channels=cfg.noise_channels)

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Label map (N, C, H, W) -> RGB. `noise` (N, noise_channels, H, W): the noise maps (default: drawn
        from torch's global generator); ignored without noise channels."""
        height, width = x.shape[-2:]
        if self.noise_channels:
            if noise is None:
                noise = torch.randn((x.shape[0], self.noise_channels, height, width), dtype=x.dtype, device=x.device)
            elif noise.shape != (x.shape[0], self.noise_channels, height, width):
                raise ValueError(f"noise is {tuple(noise.shape)}, expected "
                                 f"{(x.shape[0], self.noise_channels, height, width)}")
            x = torch.cat([x, noise.to(x)], dim=1)
        multiple = 2**self.depth
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the innermost output is the decoder's input, not a skip
        for block in self.up:
            x = block(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        return x[..., :height, :width]


class PatchDiscriminator(nn.Module):
    """pix2pix PatchGAN: scores overlapping patches of cat(label map, image) as real or fake (logits)."""

    def __init__(self, in_channels: int, *, base_width: int = 16, n_layers: int = 3, max_width: int = 128,
                 norm: str = "instance"):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, base_width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        prev = base_width
        for i in range(1, n_layers + 1):
            w = min(base_width * 2**i, max_width)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(prev, w, 4, stride, 1, bias=norm != "batch"), _norm(norm, w),
                       nn.LeakyReLU(0.2, inplace=True)]
            prev = w
        layers.append(nn.Conv2d(prev, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    @classmethod
    def from_config(cls, in_channels: int, cfg: DiscriminatorConfig) -> PatchDiscriminator:
        return cls(in_channels, base_width=cfg.base_width, n_layers=cfg.n_layers, max_width=cfg.max_width,
                   norm=cfg.norm)

    def forward(self, label_map: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([label_map, image], dim=1))
