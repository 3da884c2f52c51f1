"""Every shipped preset trains (one step, its model's tiny variant, tiny phantom) and yields a usable model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from oocyteseg.models import list_models, load_checkpoint
from oocyteseg.training.config import load_config
from oocyteseg.training.engine import train

torch.set_num_threads(1)
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name,val_case", [("shimotsu-deeplab", "case03"), ("andreini-smanet", "incl004"),
                                           ("fast-cpu", "case03"), ("quality-cpu", "case03"),
                                           ("hr-crops-cpu", "case03")])
def test_preset_trains_one_step(name, val_case, tiny_phantom, tmp_path):
    cfg = load_config(CONFIGS / f"{name}.yaml")
    tiny = f"{cfg.model.name}_tiny"
    if tiny not in list_models():
        pytest.skip(f"{tiny} is not registered")
    cfg = load_config(CONFIGS / f"{name}.yaml", [
        f"data.manifests=[{tiny_phantom}]", f"model.name={tiny}", "model.kwargs={}", f"data.val_cases=[{val_case}]",
        "data.size=[64,64]", "optim.max_steps=1", "optim.batch_size=2", "trainer.val_every_n_steps=1",
        "trainer.accelerator=cpu", "trainer.devices=1", "num_workers=0"])
    result = train(cfg, tmp_path / name, progress=False)
    model, _, extra = load_checkpoint(result.model_path)
    n = 2 if cfg.data.labelset == "inclusions" else 4
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, n, 64, 64)
    assert extra["labelset"] == cfg.data.labelset
