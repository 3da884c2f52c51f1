"""EfficientNet-Lite0 ImageNet weights: read from the installed package, loaded strictly, recorded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oocyteseg.errors import OocytesegError
from oocyteseg.models import create_model, get_model_entry
from oocyteseg.models.unet_effnet import load_lite0_weights, lukemelas_to_timm, packaged_lite0_weights
from oocyteseg.models.weights import read_state_dict

torch.set_num_threads(1)


def test_loaded_encoder_equals_the_packaged_file():
    path = packaged_lite0_weights()
    entry = get_model_entry("unet_effnet_lite0")
    assert entry.packaged_weights is not None and entry.packaged_weights() == path
    model = create_model("unet_effnet_lite0", num_classes=4, backbone_weights=path)
    own = model.encoder.state_dict()
    file = read_state_dict(path)
    mapping = lukemelas_to_timm(list(file))
    compared = 0
    for key, value in file.items():
        target = mapping[key]
        if target in own:
            assert torch.equal(own[target], value), (key, target)
            compared += 1
    float_tensors = [k for k in own if not k.endswith("num_batches_tracked")]
    assert compared >= len(float_tensors) == 240  # every encoder tensor came from the file
    assert not torch.equal(create_model("unet_effnet_lite0", num_classes=4).encoder.conv_stem.weight,
                           model.encoder.conv_stem.weight)  # random init differs


def test_packaged_weights_are_imagenet_weights():
    """The position mapping is right: timm's full classifier with the file's tensors calls the cat a cat."""
    import cv2
    import timm
    from skimage import data

    file = read_state_dict(packaged_lite0_weights())
    mapping = lukemelas_to_timm(list(file))
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    net.load_state_dict({mapping[k]: v for k, v in file.items()})
    net.eval()
    image = cv2.resize(data.chelsea(), (224, 224)).astype(np.float32) / 255.0
    x = torch.from_numpy(((image - 0.5) / 0.5).transpose(2, 0, 1))[None]
    with torch.no_grad():
        top = int(net(x).argmax())
    assert top in (281, 282, 283, 284, 285)  # ImageNet's domestic cats (tabby, tiger, Persian, Siamese, Egyptian)


def test_a_wrong_file_is_refused(tmp_path):
    state = read_state_dict(packaged_lite0_weights())
    broken = dict(state)
    broken["_conv_stem.weight"] = torch.zeros(8, 3, 3, 3)
    torch.save(broken, tmp_path / "wrong.pth")
    model = create_model("unet_effnet_lite0", num_classes=4)
    with pytest.raises(OocytesegError, match="shape"):
        load_lite0_weights(model.encoder, tmp_path / "wrong.pth")
    fewer = dict(list(state.items())[:-10])
    torch.save(fewer, tmp_path / "short.pth")
    with pytest.raises(OocytesegError, match="tensors"):
        load_lite0_weights(model.encoder, tmp_path / "short.pth")


def test_training_records_the_encoder_file(tmp_path):
    import hashlib
    from pathlib import Path

    from oocyteseg.training.config import config_from_dict
    from oocyteseg.training.engine import encoder_weights_record

    cfg = config_from_dict({"data": {"manifests": [str(tmp_path / "m.csv")]}, "model": {"name": "unet_effnet_lite0"}})
    record = encoder_weights_record(cfg)
    path = Path(packaged_lite0_weights())
    assert record == {"file": path.name, "bytes": path.stat().st_size,
                      "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    off = config_from_dict({"data": {"manifests": [str(tmp_path / "m.csv")]},
                            "model": {"name": "unet_effnet_lite0", "pretrained": False}})
    assert encoder_weights_record(off) is None


@pytest.mark.parametrize("hw", [(96, 128), (95, 127)])
def test_native_head_starts_as_the_half_resolution_unet_upsampled(hw):
    """unet_effnet_lite0_hr = the U-Net on the image average-pooled 2x, logits upsampled, + a head that starts at 0."""
    torch.manual_seed(0)
    hr = create_model("unet_effnet_lite0_hr_tiny", num_classes=4).eval()
    base = create_model("unet_effnet_lite0_tiny", num_classes=4).eval()
    base.load_state_dict({k: v for k, v in hr.state_dict().items() if not k.startswith("native_head.")})
    x = torch.randn(2, 3, *hw)
    with torch.no_grad():
        even = torch.nn.functional.pad(x, (0, hw[1] % 2, 0, hw[0] % 2), mode="replicate")
        low = base(torch.nn.functional.avg_pool2d(even, 2))
        expected = torch.nn.functional.interpolate(low, scale_factor=2.0, mode="bilinear")[..., :hw[0], :hw[1]]
        assert torch.allclose(hr(x), expected, atol=1e-6)
        # a trained head sees the native pixels: a one-pixel change moves the logits at that pixel
        hr.native_head[-1].weight.normal_()
        y = hr(x)
        x2 = x.clone()
        x2[..., 41, 61] += 5.0
        assert (hr(x2) - y).abs()[..., 41, 61].max() > 1e-3


def test_native_head_model_takes_the_packaged_encoder_weights():
    path = packaged_lite0_weights()
    model = create_model("unet_effnet_lite0_hr", num_classes=4, backbone_weights=path)
    plain = create_model("unet_effnet_lite0", num_classes=4, backbone_weights=path)
    assert all(torch.equal(a, b) for a, b in zip(model.encoder.state_dict().values(),
                                                  plain.encoder.state_dict().values()))
