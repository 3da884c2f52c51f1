"""evaluate_model on hand-made images: known predictions give known confusion matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from oocyteseg.evaluation.evaluate import evaluate_model, write_evaluation
from oocyteseg.io.images import write_image, write_mask

torch.set_num_threads(1)


class ConstantModel(nn.Module):
    """Predicts class `k` everywhere, at any input size."""

    def __init__(self, k: int, num_classes: int = 4):
        super().__init__()
        self.k, self.num_classes = k, num_classes
        self.seen: list[tuple[int, int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(tuple(x.shape[-2:]))
        out = torch.zeros(x.shape[0], self.num_classes, *x.shape[-2:])
        out[:, self.k] = 1.0
        return out


class ThresholdModel(nn.Module):
    """Class 1 where the red channel is bright, else 0: exact on images painted from their masks."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fg = (x[:, :1] > 0).float()
        return torch.cat([1 - fg, fg, torch.zeros_like(fg), torch.zeros_like(fg)], 1) * 10


def _rows(tmp_path, shapes):
    rows = []
    for i, (case, (h, w)) in enumerate(shapes):
        mask = np.zeros((h, w), np.uint8)
        mask[h // 4: h // 2, w // 4: w // 2] = 1
        image = np.full((h, w, 3), 120, np.uint8)
        image[..., 0] = np.where(mask == 1, 250, 20)
        write_image(tmp_path / f"{i}.png", image)
        write_mask(tmp_path / f"{i}_m.png", mask)
        rows.append({"case": case, "image_path": str(tmp_path / f"{i}.png"), "mask_path": str(tmp_path / f"{i}_m.png"),
                     "labelset": "icsi"})
    return pd.DataFrame(rows)


def test_constant_prediction_gives_the_class_frequencies(tmp_path):
    rows = _rows(tmp_path, [("a", (32, 48)), ("a", (32, 48)), ("b", (40, 40))])
    model = ConstantModel(0)
    res = evaluate_model(model, rows, (16, 24), batch_size=2)
    assert set(model.seen) == {(16, 24)}  # every image is resized to the model's size
    fg_a, fg_b = 2 * (8 * 12), 10 * 10
    assert res.case_cms["a"][1, 0] == fg_a and res.case_cms["a"][0, 0] == 2 * 32 * 48 - fg_a
    assert res.case_cms["b"][1, 0] == fg_b
    assert res.overall_cm.sum() == 2 * 32 * 48 + 40 * 40  # native resolution
    m = res.overall_metrics()
    assert m["accuracy"] == pytest.approx(1 - (fg_a + fg_b) / (2 * 32 * 48 + 40 * 40))
    assert m["iou_oocyte"] == 0.0 and np.isnan(m["iou_sERC"])
    assert len(res.frames) == 3 and res.frame_cms.shape == (3, 4, 4)


def test_perfect_model_scores_one_and_keeps_predictions(tmp_path):
    rows = _rows(tmp_path, [("a", (32, 32)), ("b", (24, 40))])
    res = evaluate_model(ThresholdModel(), rows, None, batch_size=4, keep_predictions=True)
    assert res.overall_metrics()["accuracy"] == 1.0 and res.overall_metrics()["mean_iou"] == 1.0
    assert [p.shape for p in res.predictions] == [(32, 32), (24, 40)]
    paths = write_evaluation(res, tmp_path / "eval")
    table = pd.read_csv(paths["table_csv"])
    assert table.loc[table["case"] == "Average", "oocyte"].item() == 1.0
    assert np.isnan(table.loc[0, "sERC"])  # absent from truth and prediction: undefined, shown as n/a
    assert "n/a" in paths["table_md"].read_text()
