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
