"""The native-resolution head of `unet_effnet_lite0_hr` computed at half resolution, for inference.

The head is `Conv3x3(cat[up2(F), x]) -> BN -> ReLU -> Conv1x1`, where `F` are the decoder's last features at
half resolution, `up2` is bilinear 2x upsampling (align_corners=False) and `x` the full-resolution image.
Bilinear 2x upsampling is a fixed polyphase filter (each output pixel of phase (py, px) mixes the 2x2 nearest
half-resolution pixels with weights 1/4, 3/4), so a 3x3 convolution of the upsampled features equals a 3x3
convolution of the features themselves (replicate-padded by one pixel) with four times the output channels,
one set per output phase, followed by `pixel_shuffle`; a 3x3 convolution of `x` equals a 4x4 convolution of
stride 2. BN folds into the convolution and the 1x1 convolution acts per phase, so the whole head
runs at half resolution and only its 4-class output is rearranged to full resolution: no 8-channel
full-resolution upsampling, concatenation or convolution. The only difference from the head as trained is
the frame's outermost ring of pixels, where the trained convolution sees zeros past the upsampled features
instead of their replicated edge; that ring is computed by the head itself on thin strips, so the result is
the head's, to float rounding (`tests/models/test_native_head.py`). ONNX Runtime, one thread, batches of 4 at
480x640: the whole INT8 model 55 -> 43 ms per frame, float32 74 -> 64 (`docs/results.md`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# 1-D bilinear 2x upsampling: output phase q takes these weights on the half-resolution offsets -1, 0, +1
_UP = ((0.25, 0.75, 0.0), (0.0, 0.75, 0.25))


def _tap(p: int, k: int) -> tuple[int, int]:
    """Output phase p, fine kernel tap k (0..2 for -1..+1) -> (half-resolution shift, phase of that pixel)."""
    s = p + k - 1
    return s // 2, s % 2


@lru_cache(maxsize=None)
def _feature_expansion() -> np.ndarray:
    """E[py, px, ky, kx, oy, ox]: weight of fine tap (ky, kx) of output phase (py, px) on the replicate-padded
    half-resolution features at offset (oy, ox) (0..2 for -1..+1). NumPy, so that an ONNX export sees a constant."""
    e = np.zeros((2, 2, 3, 3, 3, 3))
    for py in range(2):
        for px in range(2):
            for ky in range(3):
                iy, qy = _tap(py, ky)
                for kx in range(3):
                    ix, qx = _tap(px, kx)
                    for dy in range(3):
                        for dx in range(3):
                            wgt = _UP[qy][dy] * _UP[qx][dx]
                            if wgt:
                                e[py, px, ky, kx, iy + dy, ix + dx] += wgt
    return e


@lru_cache(maxsize=None)
def _image_expansion() -> np.ndarray:
    """E[py, px, ky, kx, a, b]: fine tap (ky, kx) of output phase (py, px) is tap (a, b) of a 4x4 stride-2
    convolution of the image padded by one pixel (its window at half-resolution pixel i covers 2i-1 .. 2i+2)."""
    e = np.zeros((2, 2, 3, 3, 4, 4))
    for py in range(2):
        for px in range(2):
            for ky in range(3):
                for kx in range(3):
                    e[py, px, ky, kx, py + ky, px + kx] = 1.0
    return e


def polyphase_weights(head: nn.Sequential, feature_channels: int) -> tuple[torch.Tensor, ...]:
    """(3x3 weight on the features, 4x4 stride-2 weight on the image, bias, 1x1 weight, bias) of the head at
    half resolution: BN folded, 4 phases per channel (channel o*4 + py*2 + px, `pixel_shuffle`'s order)."""
    conv, bn, _, out = head
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    w = conv.weight * scale[:, None, None, None]
    e_f, e_x = (torch.from_numpy(e).to(w) for e in (_feature_expansion(), _image_expansion()))
    o = w.shape[0]
    k_f = torch.einsum("ocyx,pqyxab->opqcab", w[:, :feature_channels], e_f).reshape(o * 4, feature_channels, 3, 3)
    k_x = torch.einsum("ocyx,pqyxab->opqcab", w[:, feature_channels:], e_x).reshape(o * 4, -1, 4, 4)
    bias = (bn.bias - bn.running_mean * scale).repeat_interleave(4)
    k = out.weight.shape[0]
    w1 = torch.einsum("ko,pq->kpoq", out.weight[:, :, 0, 0], torch.from_numpy(np.eye(4)).to(w)).reshape(k * 4, o * 4, 1, 1)
    return k_f, k_x, bias, w1, out.bias.repeat_interleave(4)


def head_as_trained(head: nn.Sequential, features: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The head as trained: the features upsampled 2x next to the full-resolution image, all at full resolution."""
    up = F.interpolate(features, scale_factor=2.0, mode="bilinear", align_corners=False)
    return head(torch.cat([up, x], 1))


def native_head_half_resolution(head: nn.Sequential, features: torch.Tensor, x: torch.Tensor,
                                image_channels: int = 3) -> torch.Tensor:
    """`head(cat[up2(features), x])` for a head in eval mode, computed at the features' resolution.

    features: (N, C, H, W); x: (N, image_channels, 2H, 2W). Returns (N, classes, 2H, 2W). The channel split
    comes from the modules (Python ints), so an ONNX export holds the folded weights as constants.
    """
    k_f, k_x, b3, k1, b1 = polyphase_weights(head, head[0].in_channels - image_channels)
    z = F.conv2d(F.pad(features, (1, 1, 1, 1), mode="replicate"), k_f, b3) + F.conv2d(x, k_x, stride=2, padding=1)
    y = F.pixel_shuffle(F.conv2d(F.relu(z), k1, b1), 2)
    # the outermost ring as trained (zeros past the upsampled features): the head itself on strips two feature
    # pixels deep, whose edge row / column depends only on upsampled values the strip gets right
    top = head_as_trained(head, features[:, :, :2], x[:, :, :4])[:, :, :1]
    bottom = head_as_trained(head, features[:, :, -2:], x[:, :, -4:])[:, :, -1:]
    y = torch.cat([top, y[:, :, 1:-1], bottom], 2)
    left = head_as_trained(head, features[..., :2], x[..., :4])[..., :1]
    right = head_as_trained(head, features[..., -2:], x[..., -4:])[..., -1:]
    return torch.cat([left, y[..., 1:-1], right], 3)
