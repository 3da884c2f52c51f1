"""GAN config: the shipped YAML presets load, unknown keys and bad values are errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from oocyteseg.errors import OocytesegError
from oocyteseg.synth import GanConfig, load_gan_config, parse_gan_config, save_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize(("name", "size"), [("gan-inclusions.yaml", (256, 256)), ("gan-icsi.yaml", (480, 640))])
def test_presets_load(name: str, size: tuple[int, int]) -> None:
    cfg = load_gan_config(CONFIGS / name)
    assert cfg.image_size == size


def test_round_trip_and_overrides(tmp_path: Path) -> None:
    cfg = GanConfig(labelset="icsi").with_overrides(steps=7, batch_size=None)
    assert cfg.train.steps == 7 and cfg.train.batch_size == GanConfig().train.batch_size
    save_config(cfg, tmp_path / "c.yaml")
    assert load_gan_config(tmp_path / "c.yaml") == cfg


@pytest.mark.parametrize(("data", "key"), [({"generator": {"widht": 8}}, "generator.widht"),
                                           ({"loss": {"gan_mode": "wgan"}}, "loss.gan_mode"),
                                           ({"train": {"steps": 0}}, "train.steps"),
                                           ({"labelset": "cells"}, "labelset")])
def test_bad_values_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(OocytesegError, match=key):
        parse_gan_config(data)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(OocytesegError, match="not found"):
        load_gan_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("train: [unclosed\n")
    with pytest.raises(OocytesegError, match="not valid YAML"):
        load_gan_config(tmp_path / "bad.yaml")
