"""GAN settings (pydantic): networks, loss, training and the label-map samplers, loaded from YAML."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, PositiveFloat, PositiveInt, ValidationError

from oocyteseg.classes import LabelSet, get_label_set
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_text
from oocyteseg.io.config_file import read_yaml
from oocyteseg.synth._base import StrictModel
from oocyteseg.synth.labelmaps import IcsiSamplerConfig, InclusionSamplerConfig

Norm = Literal["instance", "batch", "none"]


class GeneratorConfig(StrictModel):
    """U-Net generator: `depth` stride-2 levels, widths base_width * 2^level capped at max_width."""

    base_width: PositiveInt = 16
    depth: Annotated[int, Field(ge=1, le=9)] = 6
    max_width: PositiveInt = 128
    norm: Norm = "instance"
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    # decoder upsampling: "transpose" (pix2pix; paints a period-2 checkerboard) or "resize" (nearest 2x + 3x3 conv)
    upsample: Literal["transpose", "resize"] = "transpose"
    # maps of per-pixel N(0, 1) noise appended to the label map (texture material; 0 = pix2pix, none)
    noise_channels: Annotated[int, Field(ge=0, le=16)] = 0


class DiscriminatorConfig(StrictModel):
    """PatchGAN discriminator: `n_layers` stride-2 convolutions (3 gives 70x70 patches)."""

    base_width: PositiveInt = 16
    n_layers: Annotated[int, Field(ge=1, le=6)] = 3
    max_width: PositiveInt = 128
    norm: Norm = "instance"


class LossConfig(StrictModel):
    """Adversarial loss (least squares or binary cross-entropy) plus lambda * L1 to the real image."""

    gan_mode: Literal["lsgan", "bce"] = "lsgan"
    l1_lambda: Annotated[float, Field(ge=0.0)] = 100.0


class TrainConfig(StrictModel):
    """Optimisation and bookkeeping; `steps` is the total number of generator updates of the run."""

    steps: PositiveInt = 2000
    batch_size: PositiveInt = 4
    lr_g: PositiveFloat = 2e-4
    lr_d: PositiveFloat = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    flip: bool = True  # random horizontal/vertical flips of each (mask, image) pair
    seed: int = 0
    sample_every: PositiveInt = 200
    checkpoint_every: PositiveInt = 200
    accelerator: Literal["cpu", "gpu", "auto"] = "cpu"  # Lightning's device choice; cpu keeps runs comparable


class GanConfig(StrictModel):
    """Everything one GAN run needs; the image size is the sampler's (height, width) for the label set."""

    labelset: Literal["inclusions", "icsi"] = "inclusions"
    generator: GeneratorConfig = GeneratorConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    loss: LossConfig = LossConfig()
    train: TrainConfig = TrainConfig()
    sampler_inclusions: InclusionSamplerConfig = InclusionSamplerConfig()
    sampler_icsi: IcsiSamplerConfig = IcsiSamplerConfig()

    @property
    def label_set(self) -> LabelSet:
        return get_label_set(self.labelset)

    @property
    def image_size(self) -> tuple[int, int]:
        """(height, width) the GAN is trained and sampled at."""
        s = self.sampler_inclusions if self.labelset == "inclusions" else self.sampler_icsi
        return s.height, s.width

    def with_overrides(self, **train: Any) -> GanConfig:
        """A copy with some `train` fields replaced (None values are ignored), validated again."""
        data = self.model_dump()
        data["train"].update({k: v for k, v in train.items() if v is not None})
        return parse_gan_config(data)


def parse_gan_config(data: dict[str, Any] | None, path: str | os.PathLike | None = None) -> GanConfig:
    """Validate a config dict; errors become one OocytesegError naming the bad keys."""
    try:
        return GanConfig.model_validate(data or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:5])
        raise OocytesegError(f"invalid GAN config ({problems})", path,
                             "fix or remove these keys; see configs/gan-inclusions.yaml for the valid ones") from exc


def load_gan_config(path: str | os.PathLike | None) -> GanConfig:
    """Read a GAN config YAML (None gives the defaults)."""
    if path is None:
        return GanConfig()
    return parse_gan_config(read_yaml(path), path)


def config_yaml(config: StrictModel) -> str:
    """The resolved config as YAML text (tuples become lists)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def save_config(config: StrictModel, path: str | os.PathLike) -> Path:
    """Write the resolved config as YAML, atomically."""
    return write_text(path, config_yaml(config))
