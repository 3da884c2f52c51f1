"""One preprocessing path: the same frames give the same label maps through `evaluate` and `analyze`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from oocyteseg.cli.main import main
from oocyteseg.evaluation.evaluate import evaluate_checkpoint
from oocyteseg.inference.mask_store import iter_masks
from oocyteseg.io.images import write_image, write_mask
from oocyteseg.io.video import iter_frames
from oocyteseg.models import create_model, make_model_config, save_checkpoint


def _checkpoint(path, name, size, mean=None, std=None):
    import torch

    torch.manual_seed(1)
    extra = {"size": list(size), "labelset": "icsi"}
    if mean:
        extra.update(mean=list(mean), std=list(std))
    model = create_model(name, num_classes=4)
    # a random model's logits are dominated by the output layer's bias (one class everywhere): a wider output
    # layer makes the labels vary over the frame, so equal label maps say something
    head = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.out_channels == 4][-1]
    with torch.no_grad():
        torch.nn.init.normal_(head.weight, std=3.0)
        if head.bias is not None:
            head.bias.zero_()
    return save_checkpoint(path, model, make_model_config(name, 4), extra)


@pytest.mark.parametrize("name,size,norm,backend,tta", [
    ("unet_small_tiny", (48, 64), None, "torch", "none"),
    ("unet_effnet_lite0_tiny", (64, 96), (0.5, 0.5, 0.5), "torch", "none"),
    ("unet_small_tiny", (48, 64), None, "onnx", "none"),
    # the accurate model's head runs at half resolution in eval mode and in its ONNX export
    ("unet_effnet_lite0_hr_tiny", (96, 128), (0.5, 0.5, 0.5), "onnx", "none"),
    ("unet_small_tiny", (48, 64), None, "torch", "flip"),
])
def test_evaluate_and_analyze_give_identical_labels(tiny_phantom, tmp_path, name, size, norm, backend, tta):
    ckpt = _checkpoint(tmp_path / "m.pt", name, size, norm, norm)
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    out = tmp_path / "analysis"
    args = ["analyze", str(video), "--model", str(ckpt), "--out", str(out), "--threads", "1", "--tta", tta]
    assert main(args + (["--backend", "onnx"] if backend == "onnx" else [])) == 0
    folder = next(p.parent for p in out.rglob("done.json"))
    analysed = {i: m for i, _, m in iter_masks(folder / "masks")}
    # the same decoded frames as stills (PNG is lossless), with any mask, through evaluate
    rows = []
    for frame in iter_frames(video):
        image_path, mask_path = tmp_path / "stills" / f"{frame.index:03d}.png", tmp_path / "masks" / f"{frame.index:03d}.png"
        write_image(image_path, frame.image)
        write_mask(mask_path, np.zeros(frame.image.shape[:2], np.uint8))
        rows.append({"case": "case01", "image_path": str(image_path), "mask_path": str(mask_path), "labelset": "icsi"})
    result, _ = evaluate_checkpoint(ckpt, rows=pd.DataFrame(rows), keep_predictions=True, tta=tta)
    assert min(len(np.unique(p)) for p in result.predictions) > 1  # not one class everywhere
    if tta != "none":  # the option reached both: without it evaluate predicts otherwise
        plain, _ = evaluate_checkpoint(ckpt, rows=pd.DataFrame(rows), keep_predictions=True)
        assert any(not np.array_equal(a, b) for a, b in zip(plain.predictions, result.predictions))
    if backend == "onnx":  # ONNX Runtime's kernels differ from torch's in the last bits of a logit
        agree = np.mean([np.mean(result.predictions[i] == analysed[i]) for i in analysed])
        assert agree > 0.999
    else:
        assert len(analysed) == len(rows)
        for i, pred in enumerate(result.predictions):
            assert np.array_equal(pred, analysed[i]), f"frame {i}: evaluate and analyze disagree"


def test_unknown_tta_is_a_one_line_error(tiny_phantom, tmp_path, capsys):
    ckpt = _checkpoint(tmp_path / "m.pt", "unet_small_tiny", (48, 64))
    video = sorted(tiny_phantom.glob("icsi/*/*.mp4"))[0]
    assert main(["analyze", str(video), "--model", str(ckpt), "--out", str(tmp_path / "a"), "--tta", "mirror"]) != 0
    err = capsys.readouterr().err
    assert "--tta 'mirror'" in err and "none, flip" in err and "Traceback" not in err
