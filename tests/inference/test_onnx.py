"""ONNX export with embedded metadata, ONNX Runtime predictor, agreement with torch, predictor loading."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.inference import OnnxPredictor, TorchPredictor, export_checkpoint_onnx, load_predictor
from oocyteseg.data.preprocess import logits_to_labels
from oocyteseg.io.video import iter_frames
from tests.inference.conftest import make_checkpoint


def _frames(tiny_phantom, n=6):
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    return [f.image for _, f in zip(range(n), iter_frames(video))]


def test_export_embeds_size_and_classes(tiny_checkpoint, tmp_path):
    path = export_checkpoint_onnx(tiny_checkpoint, tmp_path / "m.onnx")
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["oocyteseg.size"] == "48,64"
    assert "sERC" in props["oocyteseg.classes"] and props["oocyteseg.labelset"] == "icsi"
    pred = OnnxPredictor(path, threads=1)
    assert pred.size == (48, 64) and pred.labels.name == "icsi"
    with pytest.raises(OutputExistsError):
        export_checkpoint_onnx(tiny_checkpoint, tmp_path / "m.onnx")


@pytest.mark.parametrize("name", ["lraspp_mobilenet_v3_tiny", "unet_small_tiny"])
def test_onnx_argmax_agrees_with_torch(tiny_phantom, tmp_path, name):
    ckpt = make_checkpoint(tmp_path / f"{name}.pt", name, size=(48, 64))
    images = _frames(tiny_phantom)
    torch_masks = TorchPredictor.from_checkpoint(ckpt, device="cpu").predict(images)
    onnx_pred = OnnxPredictor(export_checkpoint_onnx(ckpt, tmp_path / f"{name}.onnx"), threads=1)
    onnx_masks = onnx_pred.predict(images, batch_size=4)
    assert onnx_masks[0].shape == images[0].shape[:2] and onnx_masks[0].dtype == np.uint8
    agree = np.mean([np.mean(a == b) for a, b in zip(torch_masks, onnx_masks)])
    assert agree >= 0.999, f"{name}: ONNX and torch agree on {agree:.5f} of pixels"
    # and both agree with a reference written out here, independent of the shared preprocessing module:
    # OpenCV area resize, ImageNet normalisation by broadcasting, torch bilinear upsampling of the logits
    reference = _reference_labels(ckpt, images, (48, 64))
    agree = np.mean([np.mean(a == b) for a, b in zip(reference, onnx_masks)])
    assert agree >= 0.999, f"{name}: ONNX and the hand-written reference agree on {agree:.5f} of pixels"


def _reference_labels(ckpt, images, size):
    import cv2
    import torch
    import torch.nn.functional as F

    from oocyteseg.models import load_checkpoint

    model = load_checkpoint(ckpt)[0].eval()
    mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
    out = []
    for im in images:
        small = cv2.resize(im, (size[1], size[0]), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        x = torch.from_numpy(((small - mean) / std).transpose(2, 0, 1).copy())[None]
        with torch.no_grad():
            logits = F.interpolate(model(x), size=im.shape[:2], mode="bilinear", align_corners=False)
        out.append(logits[0].argmax(0).numpy().astype(np.uint8))
    return out


def test_logit_upsampling_matches_torch_bilinear():
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 12, 16)).astype(np.float32)
    ref = F.interpolate(torch.from_numpy(logits)[None], size=(48, 64), mode="bilinear",
                        align_corners=False)[0].argmax(0).numpy()
    assert np.mean(logits_to_labels(logits, 48, 64) == ref) > 0.999


def test_load_predictor_backends_and_errors(tiny_checkpoint, tmp_path):
    pred, info = load_predictor(tiny_checkpoint)
    assert isinstance(pred, TorchPredictor) and info["backend"] == "torch" and info["size"] == [48, 64]
    pred, info = load_predictor(tiny_checkpoint, backend="onnx", onnx_dir=tmp_path, threads=1)
    assert isinstance(pred, OnnxPredictor) and (tmp_path / "model.onnx").is_file()
    assert info["name"] == "lraspp_mobilenet_v3_tiny"
    with pytest.raises(OocytesegError, match="only with --backend onnx"):
        load_predictor(tmp_path / "model.onnx", backend="torch")
    with pytest.raises(OocytesegError, match="unknown backend"):
        load_predictor(tiny_checkpoint, backend="tensorrt")
    with pytest.raises(OocytesegError, match="not found"):
        OnnxPredictor(tmp_path / "missing.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    with pytest.raises(OocytesegError, match="not a readable ONNX model"):
        OnnxPredictor(tmp_path / "bad.onnx")


def test_lut_preprocessing_equals_training_normalisation():
    """The inference table and the training path (augmented [0, 1] tensor, then normalised) agree."""
    from oocyteseg.data.preprocess import InputSpec, image_to_uint8_tensor01

    image = np.random.default_rng(2).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    for spec in (InputSpec((48, 64)), InputSpec((48, 64), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))):
        ours = spec.batch([image])[0]
        ref = spec.normalize_tensor(image_to_uint8_tensor01(spec.resize(image))).numpy()
        assert np.abs(ours - ref).max() < 1e-6
