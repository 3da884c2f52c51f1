"""Typed training configuration: loaded from YAML, overridden by dotted `key=value` pairs, validated once.

Unknown keys are errors (a misspelt option must never be silently ignored). The resolved config is
written as `config.yaml` in every run folder and stored inside every checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oocyteseg.classes import LabelSet
from oocyteseg.data.labels import dataset_labels
from oocyteseg.errors import OocytesegError
from oocyteseg.io.config_file import apply_overrides, read_yaml, set_dotted


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Strict):
    """What to train and validate on."""

    manifests: list[Path] = Field(min_length=1, description="training manifests (CSV/Parquet or folders); mixed")
    val_manifests: list[Path] | None = Field(None, description="validation manifests; default: the training ones")
    labelset: str = "icsi"  # older alias of `classes` (a built-in name)
    classes: str | None = None  # classes-file path or label-set name; default: `labelset`
    size: tuple[int, int] = (480, 640)  # (height, width) the images are resized to
    # how: "letterbox" keeps the aspect and pads, "stretch" ignores it (see oocyteseg.data.preprocess)
    resize: str = "letterbox"
    train_cases: list[str] | None = None  # default: every case of `manifests` not in val_cases
    val_cases: list[str] | None = None  # default: all cases of val_manifests, or none
    split_file: Path | None = None  # a splits.json; with `fold`, sets train_cases / val_cases
    fold: int | None = None
    cache: bool = True  # keep decoded, resized images in memory (one copy per data-loader worker)
    # cross-validation: validate (best model, early stopping) on this many training cases held out of
    # training (seeded), never on the fold's test case; 0 validates on the test case for the learning curve only
    val_holdout: int = Field(0, ge=0)
    crop: tuple[int, int] | None = None  # train on random (height, width) patches of the resized images
    crop_focus: float = Field(0.0, ge=0, le=1)  # share of patches centred on a foreground class

    def label_set(self) -> LabelSet:
        """The run's label set (`classes`, else `labelset`), checked against the classes beside each manifest."""
        return dataset_labels([*self.manifests, *(self.val_manifests or [])], self.classes or self.labelset)

    @field_validator("size")
    @classmethod
    def _size(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 8 or v[1] < 8:
            raise ValueError("size is (height, width), each >= 8")
        return v

    @field_validator("resize")
    @classmethod
    def _resize(cls, v: str) -> str:
        from oocyteseg.data.preprocess import check_resize_policy

        return check_resize_policy(v)

    @model_validator(mode="after")
    def _fold(self) -> DataConfig:
        if (self.split_file is None) != (self.fold is None):
            raise ValueError("split_file and fold go together")
        return self


class ModelSection(_Strict):
    """Which network (a name from `oocyteseg.models.list_models()`)."""

    name: str
    kwargs: dict[str, Any] = {}
    backbone_weights: Path | None = None  # local ImageNet state dict (never downloaded)
    # models whose encoder weights ship in an installed package (unet_effnet_lite0) load them unless false
    pretrained: bool = True


class OptimConfig(_Strict):
    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: float = Field(1e-5, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = 0.9  # sgd only
    batch_size: int = Field(4, ge=1)  # per process
    max_steps: int = Field(25_000, ge=1)
    scheduler: Literal["none", "cosine", "onecycle", "poly"] = "none"
    warmup_steps: int = Field(0, ge=0)  # linear warm-up for cosine / poly
    grad_clip: float | None = None
    # > 0: keep an exponential moving average of the weights (Lightning's EMAWeightAveraging, decay per step,
    # buffers included); validation, the "best" checkpoint and the exported models use the averaged weights
    ema_decay: float = Field(0.0, ge=0, lt=1)
    ema_start_step: int = Field(0, ge=0)  # the first step averaged (earlier weights are not averaged in)


class LossConfig(_Strict):
    name: str = "ce"  # ce, dice, focal or combinations such as ce+dice
    class_weights: Literal["median_frequency"] | list[float] | None = None
    class_weight_power: float = Field(1.0, ge=0, le=1)  # median-frequency weights raised to this power (0.5: sqrt)
    term_weights: list[float] | None = None
    focal_gamma: float = 2.0
    dice_smooth: float = 1.0

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        from oocyteseg.training.losses import parse_loss_name

        try:
            parse_loss_name(v)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return v


class TrainerConfig(_Strict):
    """Devices and bookkeeping, handed to Lightning (CPU, one GPU, DDP across GPUs / nodes)."""

    accelerator: str = "auto"  # cpu, gpu, auto
    devices: int | str = "auto"
    strategy: str = "auto"  # auto, ddp, ddp_spawn, ...
    num_nodes: int = 1
    precision: str = "32-true"  # 32-true, 16-mixed, bf16-mixed
    val_every_n_steps: int = Field(500, ge=1)
    log_every_n_steps: int = Field(50, ge=1)
    checkpoint_every_n_steps: int = Field(500, ge=1)
    deterministic: bool = False
    cpu_threads: int | None = Field(None, ge=1)  # torch intra-op threads; None = torch's default (all cores)
    # weights and image batches in channels-last memory order (NHWC): the same arithmetic, laid out the way
    # oneDNN's convolutions read it; a training step of the Shimotsu preset takes 12 % less time on a 2-core CPU,
    # the fast preset's 25 % less (docs/logs/channels-last-2026-12-07.log). Saved models are NCHW either way.
    channels_last: bool = True
    # BatchNorm statistics recomputed from this many training batches before each validation and
    # before export (training/precise_bn.py); 0 keeps the running averages of training.
    precise_bn_batches: int = Field(16, ge=0)
    # stop when the validation mean IoU has not improved for this many validations (None: never stop early)
    early_stopping_patience: int | None = Field(None, ge=1)


class TrainConfig(_Strict):
    """Everything one training run depends on."""

    data: DataConfig
    model: ModelSection
    optim: OptimConfig = OptimConfig()
    loss: LossConfig = LossConfig()
    augment: str = "none"  # presets of oocyteseg.data.augment, combined with "+"
    trainer: TrainerConfig = TrainerConfig()
    seed: int = 0
    init_checkpoint: Path | None = None  # portable model .pt to start from (fine-tuning)
    num_workers: int = Field(0, ge=0)

    @field_validator("augment")
    @classmethod
    def _augment(cls, v: str) -> str:
        from oocyteseg.data.augment import parse_preset

        try:
            parse_preset(v)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return v

    def to_dict(self) -> dict[str, Any]:
        """Plain YAML/JSON-able dict (paths as strings, tuples as lists)."""
        return self.model_dump(mode="json")


def _resolve_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative paths that do not exist from the current folder but do from the config file's folder: use the latter."""
    def fix(p: Any) -> Any:
        if p is None or not isinstance(p, str | os.PathLike):
            return p
        q = Path(p)
        return str(q) if q.is_absolute() or q.exists() or not (base / q).exists() else str(base / q)

    data = raw.get("data") or {}
    for key in ("manifests", "val_manifests"):
        if isinstance(data.get(key), list):
            data[key] = [fix(p) for p in data[key]]
        elif isinstance(data.get(key), str):
            data[key] = [fix(data[key])]
    if "split_file" in data:
        data["split_file"] = fix(data["split_file"])
    if isinstance(raw.get("model"), dict) and "backbone_weights" in raw["model"]:
        raw["model"]["backbone_weights"] = fix(raw["model"]["backbone_weights"])
    if "init_checkpoint" in raw:
        raw["init_checkpoint"] = fix(raw["init_checkpoint"])
    return raw


def config_from_dict(raw: dict[str, Any], source: str | os.PathLike | None = None) -> TrainConfig:
    """Validate a nested dict; errors name the key, the problem and the file."""
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise OocytesegError(f"invalid training config: {problems}", source,
                             "fix the YAML or the --set override (see docs/training.md for every key)") from None


def load_config(path: str | os.PathLike, overrides: list[str] | None = None) -> TrainConfig:
    """Read a YAML config, apply dotted overrides, validate."""
    path = Path(path)
    raw = apply_overrides(read_yaml(path), overrides)
    return config_from_dict(_resolve_paths(raw, path.parent), path)


def dump_config(config: TrainConfig) -> str:
    """The config as YAML text (what config.yaml in a run folder holds)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def with_updates(config: TrainConfig, updates: dict[str, Any]) -> TrainConfig:
    """A validated copy of `config` with dotted-key updates, e.g. {"data.val_cases": ["case01"]}."""
    raw = config.to_dict()
    for key, value in updates.items():
        set_dotted(raw, key, value)
    return config_from_dict(raw)
