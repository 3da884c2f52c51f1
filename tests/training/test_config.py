"""Typed config: YAML + dotted overrides, unknown keys and bad values are errors, presets validate."""

from pathlib import Path

import pytest
import yaml

from oocyteseg.errors import OocytesegError
from oocyteseg.io.config_file import apply_overrides, parse_value
from oocyteseg.training.config import dump_config, load_config, with_updates

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_overrides_are_typed_and_dotted(tiny_config_file):
    cfg = load_config(tiny_config_file, ["optim.lr=1e-3", "data.size=[32, 40]", "model.kwargs.base_channels=8",
                                         "loss.class_weights=median_frequency", "trainer.devices=2"])
    assert cfg.optim.lr == 1e-3 and cfg.data.size == (32, 40)
    assert cfg.model.kwargs == {"base_channels": 8} and cfg.loss.class_weights == "median_frequency"
    assert cfg.trainer.devices == 2


@pytest.mark.parametrize("override,needle", [
    ("optim.lrr=1", "optim.lrr"),          # misspelt key
    ("colour=red", "colour"),              # unknown section
    ("optim.lr=-1", "optim.lr"),           # bad value
    ("optim.name=rmsprop", "optim.name"),  # not a choice
    ("loss.name=ce+hausdorff", "unknown loss"),
    ("augment=andreini+sparkles", "unknown augmentation"),
])
def test_bad_config_is_one_clear_error(tiny_config_file, override, needle):
    with pytest.raises(OocytesegError, match="invalid training config") as info:
        load_config(tiny_config_file, [override])
    assert needle in str(info.value) and str(tiny_config_file) in str(info.value)


def test_override_syntax_and_missing_file(tmp_path):
    with pytest.raises(OocytesegError, match="not key=value"):
        apply_overrides({}, ["optim.lr"])
    with pytest.raises(OocytesegError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    assert parse_value("null") is None and parse_value("[1, 2]") == [1, 2] and parse_value("a:b") == "a:b"


def test_round_trip_and_updates(tiny_config_file):
    cfg = load_config(tiny_config_file)
    again = load_config(_write(tiny_config_file.parent / "again.yaml", dump_config(cfg)))
    assert again == cfg
    fold = with_updates(cfg, {"data.train_cases": ["case01"], "data.val_cases": ["case02"]})
    assert fold.data.train_cases == ["case01"] and cfg.data.train_cases is None


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["shimotsu-deeplab.yaml", "andreini-smanet.yaml", "fast-cpu.yaml", "quality-cpu.yaml",
                                  "hr-crops-cpu.yaml"])
def test_shipped_presets_validate(name):
    cfg = load_config(CONFIGS / name)
    raw = yaml.safe_load((CONFIGS / name).read_text())
    assert cfg.model.name == raw["model"]["name"]


def test_shimotsu_preset_matches_the_paper():
    cfg = load_config(CONFIGS / "shimotsu-deeplab.yaml")
    assert (cfg.optim.name, cfg.optim.lr, cfg.optim.batch_size, cfg.optim.max_steps) == ("adam", 1e-5, 4, 25_000)
    assert cfg.data.size == (480, 640) and cfg.model.name == "deeplabv3_resnet50"


def test_hr_crops_preset_trains_on_native_crops_of_the_default_encoder():
    """The candidate recipe of issue 14: the _hr model at the frames' native size, on crops that cost the
    encoder less than a whole 240x320 frame of the fast preset, half of them centred on a foreground class."""
    hr, fast = load_config(CONFIGS / "hr-crops-cpu.yaml"), load_config(CONFIGS / "fast-cpu.yaml")
    assert hr.model.name == "unet_effnet_lite0_hr" and hr.data.size == (480, 640)
    assert hr.data.crop == (320, 384) and hr.data.crop_focus == 0.5
    crop_pixels_seen_by_encoder = hr.data.crop[0] * hr.data.crop[1] / 4  # the model halves its input
    assert crop_pixels_seen_by_encoder < fast.data.size[0] * fast.data.size[1]
    assert (hr.loss, hr.augment, hr.optim.lr) == (fast.loss, fast.augment, fast.optim.lr)
