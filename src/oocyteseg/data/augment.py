"""Augmentation presets: torchvision transforms.v2 applied jointly to an image and its mask.

Presets (combine with "+", e.g. "andreini+photometric"):

- "none": identity.
- "andreini": horizontal and vertical flips and 90-degree rotations (Andreini et al.). On non-square
  images only 0/180-degree rotations are used, so that every sample of a batch keeps its shape.
- "photometric": brightness, contrast, gamma, Gaussian blur and noise, on the image only.
- "geometric": small affine (rotation +-10 deg, scale 0.9-1.1, translation 5 %); the mask is warped
  with nearest-neighbour interpolation (tv_tensors.Mask), uncovered pixels become background.
- "flips": horizontal and vertical flips (an ICSI video may be mirrored: needle from the left).

The returned callable has the dataset's signature `f(image01, mask) -> (image01, mask)`, with `image01`
a [0, 1] float tensor (3, H, W) (`tv_tensors.Image`) and `mask` an index mask (`tv_tensors.Mask`, warped
with nearest neighbour): every geometric operation moves image and mask together. The dataset
normalises the result with the model's statistics (`oocyteseg.data.preprocess.InputSpec`), so the
operations mean the same for any normalisation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2



class RandomRot90(v2.Transform):
    """Rotate image and mask by k * 90 degrees, k uniform; k in {0, 2} for non-square inputs."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        h, w = v2.query_size(flat_inputs)
        choices = 4 if h == w else 2
        k = int(torch.randint(choices, ()).item()) * (4 // choices)
        return {"k": k}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["k"] == 0 or not isinstance(inpt, torch.Tensor):
            return inpt
        return tv_tensors.wrap(torch.rot90(inpt, params["k"], dims=(-2, -1)), like=inpt) \
            if isinstance(inpt, tv_tensors.TVTensor) else torch.rot90(inpt, params["k"], dims=(-2, -1))


class RandomGamma(v2.Transform):
    """Image ** gamma with log-uniform gamma in [1/max_gamma, max_gamma]; masks pass through."""

    def __init__(self, max_gamma: float = 1.3, p: float = 0.5):
        super().__init__()
        self.max_gamma, self.p = max_gamma, p

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        if torch.rand(()) >= self.p:
            return {"gamma": 1.0}
        log_g = (torch.rand(()) * 2 - 1) * torch.log(torch.tensor(self.max_gamma))
        return {"gamma": float(torch.exp(log_g))}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if params["gamma"] == 1.0 or not isinstance(inpt, tv_tensors.Image):
            return inpt
        return tv_tensors.wrap(inpt.clamp(0, 1) ** params["gamma"], like=inpt)


def _andreini() -> list[v2.Transform]:
    return [v2.RandomHorizontalFlip(), v2.RandomVerticalFlip(), RandomRot90()]


def _photometric() -> list[v2.Transform]:
    return [
        v2.RandomApply([v2.ColorJitter(brightness=0.25, contrast=0.25)], p=0.8),
        RandomGamma(1.3, p=0.5),
        v2.RandomApply([v2.GaussianBlur(5, sigma=(0.1, 1.5))], p=0.3),
        v2.RandomApply([v2.GaussianNoise(0.0, 0.03, clip=True)], p=0.3),
    ]


def _geometric() -> list[v2.Transform]:
    fill = {tv_tensors.Image: 0.5, tv_tensors.Mask: 0}
    # bilinear for the image; tv_tensors.Mask is always warped with nearest neighbour
    return [v2.RandomAffine(degrees=10, translate=(0.05, 0.05), scale=(0.9, 1.1), fill=fill,
                            interpolation=v2.InterpolationMode.BILINEAR)]


def _flips() -> list[v2.Transform]:
    return [v2.RandomHorizontalFlip(), v2.RandomVerticalFlip()]


PRESETS: dict[str, Callable[[], list[v2.Transform]]] = {
    "none": list, "andreini": _andreini, "photometric": _photometric, "geometric": _geometric, "flips": _flips,
}


def parse_preset(spec: str) -> list[str]:
    """Split "a+b" into known preset names; KeyError listing the valid names on an unknown one."""
    names = [s.strip() for s in str(spec).replace(",", "+").split("+") if s.strip()] or ["none"]
    for name in names:
        if name not in PRESETS:
            raise KeyError(f"unknown augmentation preset {name!r}; valid: {', '.join(PRESETS)} (combine with '+')")
    return names


class JointAugment:
    """Picklable `f(image01, mask)` applying a v2 pipeline to a [0, 1] image tensor and its mask."""

    def __init__(self, spec: str):
        self.spec = spec
        self.names = parse_preset(spec)
        self.pipeline = v2.Compose([t for name in self.names for t in PRESETS[name]()])

    def __call__(self, image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out_img, out_mask = self.pipeline(tv_tensors.Image(image), tv_tensors.Mask(mask))
        return out_img.as_subclass(torch.Tensor).contiguous(), out_mask.as_subclass(torch.Tensor).contiguous()

    def __repr__(self) -> str:
        return f"JointAugment({self.spec!r})"


def build_augment(spec: str) -> JointAugment | None:
    """The joint transform of a preset spec, or None for "none" (no work per sample)."""
    names = parse_preset(spec)
    return None if names == ["none"] else JointAugment(spec)
