"""Training crops: the right size, inside the image, and centred on rare classes as often as asked."""

import numpy as np
import pandas as pd
import torch

from oocyteseg.data.dataset import SegmentationDataset, random_crop_box
from oocyteseg.data.preprocess import InputSpec
from oocyteseg.io.images import write_image, write_mask


def _mask():
    mask = np.zeros((120, 160), np.uint8)
    mask[30:90, 40:120] = 1       # a large class
    mask[100:104, 150:158] = 3    # a small one in a corner
    return mask


def test_focused_crops_contain_a_foreground_class_and_stay_inside():
    rng = np.random.default_rng(0)
    mask = _mask()
    small_seen = 0
    for _ in range(200):
        y0, x0 = random_crop_box(mask, (32, 48), focus=1.0, rng=rng)
        assert 0 <= y0 <= 120 - 32 and 0 <= x0 <= 160 - 48
        crop = mask[y0:y0 + 32, x0:x0 + 48]
        assert (crop > 0).any()
        small_seen += (crop == 3).any()
    assert small_seen > 60  # about half of the crops pick the small class (uniform over present classes)
    uniform = sum((mask[y:y + 32, x:x + 48] == 3).any()
                  for y, x in (random_crop_box(mask, (32, 48), 0.0, rng) for _ in range(200)))
    assert uniform < small_seen / 2  # without focus the small corner class is rarely in a crop


def test_dataset_crops_image_and_mask_together(tmp_path):
    mask = _mask()
    image = np.zeros((120, 160, 3), np.uint8)
    image[..., 0] = mask * 60  # red channel encodes the label
    write_image(tmp_path / "i.png", image)
    write_mask(tmp_path / "m.png", mask, [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)])
    rows = pd.DataFrame([{"image_path": str(tmp_path / "i.png"), "mask_path": str(tmp_path / "m.png"), "case": "c"}])
    spec = InputSpec(None, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))  # identity normalisation: x = v / 255
    ds = SegmentationDataset(rows, spec, crop=(32, 48), crop_focus=0.5)
    torch.manual_seed(0)
    for _ in range(20):
        s = ds[0]
        assert s["image"].shape == (3, 32, 48) and s["mask"].shape == (32, 48)
        assert torch.allclose(s["image"][0] * 255 / 60, s["mask"].float(), atol=1e-4)
