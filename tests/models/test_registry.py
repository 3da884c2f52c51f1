"""Registry behaviour: names, unknown names and options, the random-init log line."""

from __future__ import annotations

import logging

import pytest
import torch

from oocyteseg.errors import OocytesegError
from oocyteseg.models import create_model, get_model_entry, list_models

torch.set_num_threads(1)


def test_list_models_has_the_fast_models_and_a_tiny_variant_of_each() -> None:
    names = list_models()
    assert names == sorted(names)
    for required in ("lraspp_mobilenet_v3", "unet_resnet18", "unet_small"):
        assert required in names
    full = list_models(include_tiny=False)
    assert full and all(not get_model_entry(n).tiny for n in full)
    for name in full:
        assert f"{name}_tiny" in names, f"{name} has no tiny variant"
        assert get_model_entry(f"{name}_tiny").tiny


def test_unknown_name_raises_key_error_listing_valid_names() -> None:
    with pytest.raises(KeyError) as info:
        create_model("no_such_net", num_classes=2)
    message = str(info.value)
    assert "no_such_net" in message
    for name in list_models():
        assert name in message


def test_unknown_option_is_an_error_naming_the_valid_ones() -> None:
    with pytest.raises(OocytesegError, match="base_channels"):
        create_model("unet_small", num_classes=2, no_such_option=1)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_num_classes_is_rejected(bad: object) -> None:
    with pytest.raises(OocytesegError, match="num_classes"):
        create_model("unet_small_tiny", num_classes=bad)  # type: ignore[arg-type]


def test_random_init_logs_exactly_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="oocyteseg.models"):
        create_model("unet_resnet18_tiny", num_classes=2)
    lines = [r for r in caplog.records if r.name == "oocyteseg.models"]
    assert len(lines) == 1
    assert "randomly initialised" in lines[0].getMessage()


def test_model_without_backbone_rejects_backbone_weights(tmp_path) -> None:
    with pytest.raises(OocytesegError, match="no pretrained backbone"):
        create_model("unet_small_tiny", num_classes=2, backbone_weights=tmp_path / "x.pth")


@pytest.mark.parametrize("in_channels", [1, 4])
def test_other_input_channel_counts(in_channels: int) -> None:
    for name in ("unet_small_tiny", "unet_resnet18_tiny", "lraspp_mobilenet_v3_tiny"):
        model = create_model(name, num_classes=3, in_channels=in_channels).eval()
        with torch.no_grad():
            out = model(torch.randn(1, in_channels, 40, 36))
        assert out.shape == (1, 3, 40, 36)
