"""Fake (mask, image) pairs and tiny GAN configs for the synth tests (until the phantom lands).

A uniquely named module (not conftest) so `from synth_fakes import ...` never picks another folder's helpers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from oocyteseg.io.images import write_image, write_mask
from oocyteseg.synth import GanConfig, map_rng, sample_inclusion_map
from oocyteseg.synth.labelmaps import InclusionSamplerConfig

torch.set_num_threads(1)

SIZE = 32


def fake_pair(seed: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Gray noisy texture with dark spots exactly where the label map has inclusions."""
    rng = np.random.default_rng(seed)
    mask = sample_inclusion_map(map_rng(seed, 0), InclusionSamplerConfig(height=size, width=size)).mask
    gray = 150 + rng.normal(0, 12, (size, size))
    gray[mask == 1] = 60
    image = np.clip(np.repeat(gray[..., None], 3, axis=2) * [1.0, 0.95, 0.9], 0, 255).astype(np.uint8)
    return mask, image


def write_fake_pairs(root: Path, n: int = 4, size: int = SIZE, cases: list[str] | None = None,
                     splits: list[str] | None = None) -> Path:
    """images/ + masks/ with `n` pairs and a manifest.csv (cases/splits columns as given)."""
    rows = []
    for i in range(n):
        mask, image = fake_pair(i, size)
        write_image(root / "images" / f"img{i}.png", image)
        write_mask(root / "masks" / f"img{i}.png", mask)
        rows.append({"case": (cases or [f"c{i}" for i in range(n)])[i], "video": "", "frame_index": -1,
                     "time_s": float("nan"), "image": f"images/img{i}.png", "mask": f"masks/img{i}.png",
                     "source": "folder", "labelset": "inclusions", "width": size, "height": size})
        if splits:
            rows[-1]["split"] = splits[i]
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root


def tiny_config(**train) -> GanConfig:
    """A GAN small enough to train a step in well under a second on one core."""
    data = {"labelset": "inclusions",
            "generator": {"base_width": 4, "depth": 3, "max_width": 16},
            "discriminator": {"base_width": 4, "n_layers": 2, "max_width": 16},
            "train": {"steps": 2, "batch_size": 2, "sample_every": 1, "checkpoint_every": 1, **train},
            "sampler_inclusions": {"height": SIZE, "width": SIZE}}
    return GanConfig.model_validate(data)
