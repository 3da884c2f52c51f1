"""`--device` on train / cv becomes the Lightning accelerator; without it the config's own stays."""

import pytest
import torch

from oocyteseg.devices import trainer_overrides
from oocyteseg.errors import OocytesegError
from oocyteseg.training.config import load_config


def test_device_overrides_the_configs_accelerator(tiny_config_file):
    assert trainer_overrides(None) == []
    cfg = load_config(tiny_config_file, trainer_overrides("cpu"))
    assert cfg.trainer.accelerator == "cpu" and cfg.trainer.devices == 1
    auto = load_config(tiny_config_file, trainer_overrides("auto"))
    expected = "gpu" if torch.cuda.is_available() else "cpu"
    assert auto.trainer.accelerator == expected
    with pytest.raises(OocytesegError, match="valid: auto, cpu, cuda, cuda:N"):
        trainer_overrides("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(OocytesegError, match="no CUDA GPU"):
            trainer_overrides("cuda:1")
