"""Synthetic data sets: deterministic under a seed, readable as a manifest, never overwritten silently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from synth_fakes import small_icsi_sampler, tiny_config, write_fake_icsi_pairs, write_fake_pairs

from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.io.images import read_image, read_mask
from oocyteseg.synth import GanConfig, generate, train_gan, write_labelmaps
from oocyteseg.synth.generate import MANIFEST_COLUMNS


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    write_fake_pairs(root / "pairs")
    return train_gan(root / "pairs", root / "run", tiny_config(steps=2), progress=False).out_dir


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def test_same_seed_same_bytes_different_seed_different(gan_run: Path, tmp_path: Path) -> None:
    a = generate(gan_run, 5, tmp_path / "a", seed=3, batch_size=2, progress=False)
    b = generate(gan_run, 5, tmp_path / "b", seed=3, batch_size=4, progress=False)  # batch size does not matter
    c = generate(gan_run, 5, tmp_path / "c", seed=4, progress=False)
    assert _files(a) == _files(b)
    assert _files(a) != _files(c)
    assert len(_files(a)) == 10


def test_noise_generator_is_still_deterministic_under_a_seed(tmp_path: Path) -> None:
    """With noise channels the images still depend on (seed, map index) only, whatever the batch size."""
    write_fake_pairs(tmp_path / "pairs")
    cfg = tiny_config(steps=1).model_dump(mode="json")
    cfg["generator"].update(noise_channels=1, upsample="resize")
    run = train_gan(tmp_path / "pairs", tmp_path / "run", GanConfig.model_validate(cfg), progress=False).out_dir
    a = generate(run, 5, tmp_path / "a", seed=3, batch_size=2, progress=False)
    b = generate(run, 5, tmp_path / "b", seed=3, batch_size=4, progress=False)
    c = generate(run, 5, tmp_path / "c", seed=4, batch_size=2, progress=False)
    assert _files(a) == _files(b) and _files(a) != _files(c)


def test_output_is_a_manifest_data_set(gan_run: Path, tmp_path: Path) -> None:
    out = generate(gan_run, 3, tmp_path / "syn", seed=0, progress=False)
    df = pd.read_csv(out / "manifest.csv")
    assert list(df.columns) == MANIFEST_COLUMNS
    assert (df["source"] == "synthetic").all() and (df["case"] == "synthetic").all()
    assert (df["labelset"] == "inclusions").all() and (df["frame_index"] == -1).all() and df["time_s"].isna().all()
    for row in df.itertuples():
        image, mask = read_image(out / row.image), read_mask(out / row.mask)
        assert image.shape == (row.height, row.width, 3) and mask.shape == (row.height, row.width)
        assert mask.max() == 1  # every inclusion map holds at least one spot
    objects = pd.read_csv(out / "objects.csv")
    assert set(objects["map"]) == {Path(p).stem for p in df["mask"]}
    assert (out / "generation.yaml").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left behind


def test_no_overwrite_without_flag_and_kind_must_match(gan_run: Path, tmp_path: Path) -> None:
    out = generate(gan_run, 1, tmp_path / "syn", progress=False)
    with pytest.raises(OutputExistsError):
        generate(gan_run, 1, out, progress=False)
    generate(gan_run, 2, out, overwrite=True, progress=False)
    assert len(list((out / "images").iterdir())) == 2
    with pytest.raises(OocytesegError, match="trained on inclusions"):
        generate(gan_run, 1, tmp_path / "icsi", kind="icsi", progress=False)


def test_labelmaps_folder(tmp_path: Path) -> None:
    out = write_labelmaps(4, tmp_path / "lm", seed=2, kind="icsi", progress=False)
    masks = sorted((out / "masks").iterdir())
    assert [p.name for p in masks] == [f"labelmap_{i:06d}.png" for i in range(4)]
    assert read_mask(masks[0]).shape == (480, 640)
    objects = pd.read_csv(out / "objects.csv")
    assert (objects.groupby("map")["class"].apply(lambda c: "oocyte" in set(c))).all()
    assert (out / "sampler.yaml").is_file()


def test_icsi_gan_generates_icsi_data_set(tmp_path: Path) -> None:
    cfg = GanConfig.model_validate({
        "labelset": "icsi", "generator": {"base_width": 4, "depth": 3, "max_width": 16},
        "discriminator": {"base_width": 4, "n_layers": 2, "max_width": 16},
        "train": {"steps": 1, "batch_size": 2}, "sampler_icsi": small_icsi_sampler()})
    run = train_gan(write_fake_icsi_pairs(tmp_path / "pairs"), tmp_path / "run", cfg, progress=False)
    out = generate(run.out_dir, 3, tmp_path / "syn", seed=0, progress=False)
    df = pd.read_csv(out / "manifest.csv")
    assert (df["labelset"] == "icsi").all() and (df["width"] == 80).all() and (df["height"] == 60).all()
    mask = read_mask(out / df["mask"][0])
    assert mask.shape == (60, 80) and {1, 2, 3} <= set(mask.ravel().tolist())
    assert read_image(out / df["image"][0]).shape == (60, 80, 3)
