"""Backbone weights from local torchvision ImageNet state-dict files (made here with weights=None)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from torchvision.models import mobilenet_v3_large, resnet18, resnet50

from oocyteseg.errors import OocytesegError
from oocyteseg.models import create_model
from oocyteseg.models.layers import first_conv

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """torchvision ImageNet-format files, saved exactly as torchvision's own .pth files are."""
    folder = tmp_path_factory.mktemp("weights")
    out = {}
    torch.manual_seed(0)
    for name, builder in (("resnet50", resnet50), ("resnet18", resnet18), ("mobilenet_v3_large", mobilenet_v3_large)):
        out[name] = folder / f"{name}.pth"
        torch.save(builder(weights=None).state_dict(), out[name])
    return out


def _first_weight(model: torch.nn.Module) -> torch.Tensor:
    return first_conv(model)[2].weight


CASES = [
    ("smanet", "resnet50", "conv1.weight"),
    ("deeplabv3_resnet50", "resnet50", "conv1.weight"),
    ("deeplabv3plus_resnet50", "resnet50", "conv1.weight"),
    ("deeplabv3plus_resnet50_tiny", "resnet50", "conv1.weight"),
    ("unet_resnet18", "resnet18", "conv1.weight"),
    ("unet_resnet18_tiny", "resnet18", "conv1.weight"),
    ("lraspp_mobilenet_v3", "mobilenet_v3_large", "features.0.0.weight"),
]


@pytest.mark.parametrize(("model_name", "backbone", "first_key"), CASES)
def test_torchvision_files_load_as_they_are(
    files: dict[str, Path], model_name: str, backbone: str, first_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    state = torch.load(files[backbone], weights_only=True)
    with caplog.at_level(logging.INFO, logger="oocyteseg.models"):
        model = create_model(model_name, num_classes=3, backbone_weights=files[backbone])
    assert torch.equal(_first_weight(model), state[first_key])
    messages = [r.getMessage() for r in caplog.records if r.name == "oocyteseg.models"]
    assert any("loaded" in m for m in messages) and not any("randomly" in m for m in messages)


def test_a_deeper_tensor_is_copied_too(files: dict[str, Path]) -> None:
    state = torch.load(files["resnet50"], weights_only=True)
    model = create_model("smanet", num_classes=2, backbone_weights=files["resnet50"])
    assert torch.equal(model.encoder.layer4[2].conv3.weight, state["layer4.2.conv3.weight"])
    assert torch.equal(model.encoder.layer2[0].bn1.running_var, state["layer2.0.bn1.running_var"])


def test_old_files_without_num_batches_tracked_load(files: dict[str, Path], tmp_path: Path) -> None:
    state = {k: v for k, v in torch.load(files["resnet18"], weights_only=True).items() if "num_batches" not in k}
    torch.save(state, tmp_path / "old.pth")
    create_model("unet_resnet18", num_classes=2, backbone_weights=tmp_path / "old.pth")


def test_grey_input_keeps_the_pretrained_filters_summed(files: dict[str, Path]) -> None:
    state = torch.load(files["resnet50"], weights_only=True)
    model = create_model("deeplabv3_resnet50", num_classes=2, in_channels=1, backbone_weights=files["resnet50"])
    assert torch.allclose(_first_weight(model), state["conv1.weight"].sum(1, keepdim=True))


def test_wrong_architecture_is_an_error_naming_keys(files: dict[str, Path]) -> None:
    with pytest.raises(OocytesegError) as info:
        create_model("smanet", num_classes=2, backbone_weights=files["resnet18"])
    message = str(info.value)
    assert "resnet18.pth" in message and "do not match" in message and "resnet50" in message
    assert "shape mismatches" in message or "missing" in message


def test_tiny_variant_without_matching_shapes_is_an_error(files: dict[str, Path]) -> None:
    with pytest.raises(OocytesegError, match="do not match"):
        create_model("smanet_tiny", num_classes=2, backbone_weights=files["resnet50"])


def test_extra_keys_in_the_file_are_an_error(files: dict[str, Path], tmp_path: Path) -> None:
    state = torch.load(files["resnet18"], weights_only=True)
    state["layer5.0.conv1.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(OocytesegError, match="unknown to the encoder: layer5.0.conv1.weight"):
        create_model("unet_resnet18", num_classes=2, backbone_weights=tmp_path / "extra.pth")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(OocytesegError, match="does not exist"):
        create_model("unet_resnet18_tiny", num_classes=2, backbone_weights=tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"\x00junk")
    with pytest.raises(OocytesegError, match="cannot read"):
        create_model("unet_resnet18_tiny", num_classes=2, backbone_weights=tmp_path / "junk.pth")
    torch.save({"not": "tensors"}, tmp_path / "dict.pth")
    with pytest.raises(OocytesegError, match="not a state dict"):
        create_model("unet_resnet18_tiny", num_classes=2, backbone_weights=tmp_path / "dict.pth")


def test_a_checkpoint_style_file_holding_a_state_dict_loads(files: dict[str, Path], tmp_path: Path) -> None:
    torch.save({"state_dict": torch.load(files["resnet18"], weights_only=True)}, tmp_path / "wrapped.pth")
    create_model("unet_resnet18_tiny", num_classes=2, backbone_weights=tmp_path / "wrapped.pth")
