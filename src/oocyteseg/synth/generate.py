"""Writing sampled label maps, and synthetic (GAN-generated) data sets that the training engine reads.

A synthetic data set is a folder with images/, masks/ (index PNGs), manifest.csv (the project's
manifest columns; source = "synthetic", case = "synthetic"), objects.csv (the exact parameters of
every drawn object) and generation.yaml (checkpoint, seed, sampler settings). Map i depends only on
(seed, i), so the same seed gives the same files.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import yaml

from oocyteseg.classes import get_label_set
from oocyteseg.errors import OocytesegError
from oocyteseg.io.atomic import write_table, write_text
from oocyteseg.io.images import read_mask, write_image, write_mask
from oocyteseg.progress import progress_bar
from oocyteseg.synth.checkpoint import load_generator
from oocyteseg.synth.config import GanConfig
from oocyteseg.synth.grids import to_uint8
from oocyteseg.synth.labelmaps import LabelMap, map_rng, sample_label_map
from oocyteseg.synth.networks import one_hot
from oocyteseg.synth.outputs import staged_dir

Kind = Literal["inclusions", "icsi"]
MANIFEST_COLUMNS = ["case", "video", "frame_index", "time_s", "image", "mask", "source", "labelset", "width", "height"]


def sample_maps(kind: Kind, config: GanConfig, seed: int, start: int, count: int,
                within: np.ndarray | None = None) -> list[LabelMap]:
    """Maps start .. start+count-1 of the run seeded with `seed`."""
    return [sample_label_map(kind, map_rng(seed, i), config.sampler_inclusions, config.sampler_icsi, within)
            for i in range(start, start + count)]


def map_noise(seed: int, indices: range, channels: int, size: tuple[int, int]) -> torch.Tensor | None:
    """The generator's noise maps for maps `indices` of the run seeded with `seed`: map i's noise depends on
    (seed, i) only, like its label map, so the images do not depend on the batch size. None without noise."""
    if not channels:
        return None
    draws = []
    for i in indices:
        rng = torch.Generator().manual_seed(int(np.random.SeedSequence(seed, spawn_key=(i, 1)).generate_state(1)[0]))
        draws.append(torch.randn((1, channels, *size), generator=rng))
    return torch.cat(draws)


def _read_within(within: str | os.PathLike | None) -> np.ndarray | None:
    return None if within is None else read_mask(within)


def _objects_rows(name: str, label_map: LabelMap) -> list[dict[str, Any]]:
    return [{"map": name, **obj} for obj in label_map.objects]


def _objects_table(objects: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(objects) if objects else pd.DataFrame(columns=["map", "class"])  # maps may be empty


def _sampler_yaml(kind: Kind, config: GanConfig, **extra: Any) -> str:
    sampler = config.sampler_inclusions if kind == "inclusions" else config.sampler_icsi
    return yaml.safe_dump({**extra, "kind": kind, "sampler": sampler.model_dump(mode="json")}, sort_keys=False)


def write_labelmaps(n: int, out: str | os.PathLike, *, seed: int = 0, kind: Kind = "inclusions",
                    config: GanConfig | None = None, within: str | os.PathLike | None = None,
                    overwrite: bool = False, progress: bool = True) -> Path:
    """Write `n` sampled label maps as masks/labelmap_NNNNNN.png, plus objects.csv and sampler.yaml."""
    cfg = config or GanConfig()
    allowed = _read_within(within)
    objects: list[dict[str, Any]] = []
    with staged_dir(out, overwrite) as stage, progress_bar(enabled=progress) as bar:
        task = bar.add_task(f"sample {kind} label maps", total=n)
        for i in range(n):
            (label_map,) = sample_maps(kind, cfg, seed, i, 1, allowed)
            name = f"labelmap_{i:06d}"
            write_mask(stage / "masks" / f"{name}.png", label_map.mask, list(get_label_set(kind).colors))
            objects += _objects_rows(name, label_map)
            bar.advance(task)
        write_table(_objects_table(objects), stage / "objects.csv")
        write_text(stage / "sampler.yaml", _sampler_yaml(kind, cfg, n=n, seed=seed,
                                                         within=None if within is None else str(within)))
    return Path(out)


def generate(gan: str | os.PathLike, n: int, out: str | os.PathLike, *, seed: int = 0, kind: Kind | None = None,
             batch_size: int = 8, within: str | os.PathLike | None = None, overwrite: bool = False,
             progress: bool = True, threads: int | None = None) -> Path:
    """Sample `n` label maps, turn them into images with a trained generator, write a synthetic data set.

    Args:
        gan: run folder of `oocyteseg synth train-gan` or a checkpoint file.
        kind: label-map kind; must match the label set the GAN was trained on (default: that one).
        batch_size: maps per generator forward pass (the label maps do not depend on it; the images
            are bit-identical for the same seed, batch size and thread count).
        within: optional allowed-region mask for inclusion spots.
        threads: torch CPU threads for this process (None keeps torch's default).
    """
    generator, cfg, ckpt = load_generator(gan)
    kind = kind or cfg.labelset
    if kind != cfg.labelset:
        raise OocytesegError(f"the GAN was trained on {cfg.labelset} label maps, not {kind}", ckpt,
                             f"use --kind {cfg.labelset} or a GAN trained on {kind} masks")
    if n < 1 or batch_size < 1:
        raise OocytesegError(f"--n ({n}) and the batch size ({batch_size}) must be positive", fix="pass --n 1 or more")
    if threads is not None:
        torch.set_num_threads(threads)
    allowed = _read_within(within)
    label_set = cfg.label_set
    height, width = cfg.image_size
    rows: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    with staged_dir(out, overwrite) as stage, progress_bar(enabled=progress) as bar, torch.no_grad():
        task = bar.add_task("generate synthetic images", total=n)
        for start in range(0, n, batch_size):
            maps = sample_maps(kind, cfg, seed, start, min(batch_size, n - start), allowed)
            masks = torch.from_numpy(np.stack([m.mask for m in maps]).astype(np.int64))
            noise = map_noise(seed, range(start, start + len(maps)), generator.noise_channels, (height, width))
            images = to_uint8(generator(one_hot(masks, label_set.num_classes), noise))
            for offset, (label_map, image) in enumerate(zip(maps, images, strict=True)):
                name = f"synthetic_{start + offset:06d}"
                write_image(stage / "images" / f"{name}.png", image)
                write_mask(stage / "masks" / f"{name}.png", label_map.mask, list(label_set.colors))
                rows.append({"case": "synthetic", "video": "", "frame_index": -1, "time_s": math.nan,
                             "image": f"images/{name}.png", "mask": f"masks/{name}.png", "source": "synthetic",
                             "labelset": label_set.name, "width": width, "height": height})
                objects += _objects_rows(name, label_map)
            bar.advance(task, len(maps))
        write_table(pd.DataFrame(rows, columns=MANIFEST_COLUMNS), stage / "manifest.csv")
        write_table(_objects_table(objects), stage / "objects.csv")
        write_text(stage / "generation.yaml", _sampler_yaml(
            kind, cfg, checkpoint=str(ckpt), n=n, seed=seed, within=None if within is None else str(within)))
    return Path(out)
