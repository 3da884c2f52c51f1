"""Portable checkpoints: round trip, atomic/no-overwrite writes, corrupt and foreign files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.models import create_model, load_checkpoint, make_model_config, save_checkpoint

torch.set_num_threads(1)


def _trained_like(name: str = "unet_small_tiny", **kw) -> tuple[torch.nn.Module, dict]:
    config = make_model_config(name, num_classes=3, in_channels=3, **kw)
    model = create_model(config["name"], config["num_classes"], config["in_channels"], **config["kwargs"])
    with torch.no_grad():  # make the weights differ from any fresh init
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return model.eval(), config


def test_round_trip_rebuilds_the_same_model(tmp_path: Path) -> None:
    model, config = _trained_like("unet_small", base_channels=4, depth=2)
    path = save_checkpoint(tmp_path / "model.pt", model, config, extra={"labelset": "icsi", "epoch": 3})
    loaded, loaded_config, extra = load_checkpoint(path)
    assert loaded_config == config
    assert extra == {"labelset": "icsi", "epoch": 3}
    assert not loaded.training
    x = torch.randn(1, 3, 33, 47)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))


def test_backbone_weights_path_is_not_stored(tmp_path: Path) -> None:
    model, config = _trained_like("unet_resnet18_tiny")
    config["kwargs"]["backbone_weights"] = str(tmp_path / "resnet18.pth")
    save_checkpoint(tmp_path / "m.pt", model, config)
    _, loaded_config, _ = load_checkpoint(tmp_path / "m.pt")
    assert "backbone_weights" not in loaded_config["kwargs"]


def test_existing_output_is_not_overwritten_without_overwrite(tmp_path: Path) -> None:
    model, config = _trained_like()
    save_checkpoint(tmp_path / "m.pt", model, config)
    with pytest.raises(OutputExistsError):
        save_checkpoint(tmp_path / "m.pt", model, config)
    save_checkpoint(tmp_path / "m.pt", model, config, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]  # no temp files left behind


def test_missing_corrupt_and_foreign_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(OocytesegError, match="does not exist"):
        load_checkpoint(tmp_path / "absent.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(OocytesegError, match="corrupt.pt"):
        load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weight": torch.zeros(2)}, foreign)
    with pytest.raises(OocytesegError, match="not an oocyteseg model checkpoint"):
        load_checkpoint(foreign)
    lightning = tmp_path / "epoch=1.ckpt"
    torch.save({"pytorch-lightning_version": "2.4", "state_dict": {}}, lightning)
    with pytest.raises(OocytesegError, match="Lightning"):
        load_checkpoint(lightning)


def test_truncated_file_is_reported(tmp_path: Path) -> None:
    model, config = _trained_like()
    path = save_checkpoint(tmp_path / "m.pt", model, config)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(OocytesegError, match="m.pt"):
        load_checkpoint(path)


def test_state_dict_that_does_not_fit_the_config_is_reported(tmp_path: Path) -> None:
    model, config = _trained_like()
    config["num_classes"] = 5  # lie about the head
    save_checkpoint(tmp_path / "m.pt", model, config)
    with pytest.raises(OocytesegError, match="does not match"):
        load_checkpoint(tmp_path / "m.pt")


def test_unknown_model_or_option_in_a_checkpoint_is_reported(tmp_path: Path) -> None:
    model, config = _trained_like()
    path = save_checkpoint(tmp_path / "m.pt", model, config)
    payload = torch.load(path, weights_only=True)
    payload["model_config"]["kwargs"] = {"future_option": 1}
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(OocytesegError, match="future.pt.*future_option"):
        load_checkpoint(tmp_path / "future.pt")
    payload["model_config"] = {"name": "renamed_net", "num_classes": 3, "in_channels": 3, "kwargs": {}}
    torch.save(payload, tmp_path / "renamed.pt")
    with pytest.raises(OocytesegError, match="renamed_net"):
        load_checkpoint(tmp_path / "renamed.pt")
    del payload["model_config"]
    torch.save(payload, tmp_path / "damaged.pt")
    with pytest.raises(OocytesegError, match="lacks its model config"):
        load_checkpoint(tmp_path / "damaged.pt")


def test_builder_defaults_are_written_so_a_changed_default_cannot_break_loading(tmp_path: Path, monkeypatch) -> None:
    model, config = _trained_like("unet_small")  # kwargs {}: every option at its default
    path = save_checkpoint(tmp_path / "model.pt", model, config)
    _, saved_config, _ = load_checkpoint(path)
    assert saved_config["kwargs"]["base_channels"] == 8 and saved_config["kwargs"]["depth"] >= 1
    assert "backbone_weights" not in saved_config["kwargs"]
    # A later release with another default still rebuilds the saved architecture.
    import oocyteseg.models.registry as registry

    entry = registry.get_model_entry("unet_small")
    original = entry.builder

    def wider(*, num_classes: int, in_channels: int = 3, backbone_weights=None, base_channels: int = 16,
              depth: int = 3):
        return original(num_classes=num_classes, in_channels=in_channels, backbone_weights=backbone_weights,
                        base_channels=base_channels, depth=depth)

    monkeypatch.setitem(registry._REGISTRY, "unet_small", registry.ModelEntry(
        entry.name, wider, entry.description, entry.tiny, entry.backbone))
    loaded, _, _ = load_checkpoint(path)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
