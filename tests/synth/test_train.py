"""GAN training: one step learns, checkpoints resume the step count, only training cases are used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from synth_fakes import tiny_config, write_fake_pairs

from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.io.images import write_mask
from oocyteseg.synth import build_networks, find_pairs, load_checkpoint, read_split_cases, train_gan


def test_one_step_changes_parameters_and_losses_are_finite(pair_dir: Path, tmp_path: Path) -> None:
    cfg = tiny_config(steps=1)
    torch.manual_seed(cfg.train.seed)
    initial_g, initial_d = (m.state_dict() for m in build_networks(cfg))  # train_gan seeds the same way
    run = train_gan(pair_dir, tmp_path / "run", cfg, progress=False)
    state = load_checkpoint(run.checkpoint)
    assert state["step"] == 1
    for initial, trained in ((initial_g, state["generator"]), (initial_d, state["discriminator"])):
        weights = [k for k in initial if k.endswith("weight")]
        assert all(not torch.equal(initial[k], trained[k]) for k in weights)
        # one Adam step moves each weight by about lr (2e-4): same initial weights, one real update
        assert all((initial[k] - trained[k]).abs().max() < 1e-3 for k in weights)
    losses = pd.read_csv(run.losses)
    assert list(losses["step"]) == [1]
    assert losses.drop(columns="step").map(lambda v: pd.notna(v) and abs(v) < 1e6).all().all()
    assert (tmp_path / "run" / "samples" / "step_000001.png").is_file()
    assert (tmp_path / "run" / "config.yaml").is_file() and (tmp_path / "run" / "pairs.csv").is_file()


def test_resume_continues_the_step_count(pair_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train_gan(pair_dir, run_dir, tiny_config(steps=2), progress=False)
    before = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    with pytest.raises(OutputExistsError):
        train_gan(pair_dir, run_dir, tiny_config(steps=2), progress=False)
    run = train_gan(pair_dir, run_dir, None, steps=4, resume=True, progress=False)
    after = load_checkpoint(run.checkpoint)
    assert run.step == 4 and after["step"] == 4
    assert after["opt_g"]["state"][0]["step"] == 4  # Adam's own counter carried over
    assert list(pd.read_csv(run.losses)["step"]) == [1, 2, 3, 4]
    assert not torch.equal(before["generator"]["down.0.0.weight"], after["generator"]["down.0.0.weight"])
    with pytest.raises(OocytesegError, match="differs from the run's saved config"):
        train_gan(pair_dir, run_dir, tiny_config(steps=6, lr_g=1e-3), resume=True, progress=False)
    with pytest.raises(OocytesegError, match="no checkpoint"):
        train_gan(pair_dir, tmp_path / "empty", None, resume=True, progress=False)


def test_interrupted_run_resumes_from_its_last_checkpoint(pair_dir: Path, tmp_path: Path, monkeypatch) -> None:
    import oocyteseg.synth.train as train_module

    write_grid = train_module.write_sample_grid

    def ctrl_c_at_step_3(path: Path, *args) -> None:
        if path.name == "step_000003.png":
            raise KeyboardInterrupt
        write_grid(path, *args)

    run_dir = tmp_path / "run"
    monkeypatch.setattr(train_module, "write_sample_grid", ctrl_c_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        train_gan(pair_dir, run_dir, tiny_config(steps=4, checkpoint_every=2), progress=False)
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["step"] == 2
    monkeypatch.undo()
    run = train_gan(pair_dir, run_dir, None, resume=True, progress=False)
    assert run.step == 4 and load_checkpoint(run.checkpoint)["opt_g"]["state"][0]["step"] == 4
    assert list(pd.read_csv(run.losses)["step"]) == [1, 2, 3, 4]


def test_manifest_split_column_keeps_train_rows_only(tmp_path: Path) -> None:
    root = write_fake_pairs(tmp_path / "d", n=4, cases=["a", "a", "b", "c"], splits=["train", "train", "test", "train"])
    pairs = find_pairs(root / "manifest.csv", "inclusions")
    assert [p.case for p in pairs] == ["a", "a", "c"]
    assert [p.case for p in find_pairs(root, "inclusions", cases={"c"})] == ["c"]
    with pytest.raises(OocytesegError, match="both training and test"):
        find_pairs(root, "inclusions", cases={"a", "b"}, exclude_cases={"b"})
    with pytest.raises(OocytesegError, match="no training pairs"):
        find_pairs(root, "inclusions", cases={"b"})  # a test row is never a training pair
    with pytest.raises(OocytesegError, match="no training pairs left"):
        find_pairs(root, "icsi")


def test_splits_json_and_folder_pairs(tmp_path: Path) -> None:
    root = write_fake_pairs(tmp_path / "d", n=3)
    (root / "manifest.csv").unlink()  # images/ + masks/ matched by name: case = file stem
    assert [p.case for p in find_pairs(root, "inclusions")] == ["img0", "img1", "img2"]
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"folds": [{"train": ["img0", "img1"], "test": ["img2"]}]}))
    train, test = read_split_cases(splits, fold=0)
    assert train == {"img0", "img1"} and test == {"img2"}
    with pytest.raises(OocytesegError, match="--fold"):
        read_split_cases(splits)
    (root / "masks" / "img1.png").unlink()
    with pytest.raises(OocytesegError, match="no partner"):
        find_pairs(root, "inclusions")


def test_bad_mask_names_the_file(tmp_path: Path) -> None:
    root = write_fake_pairs(tmp_path / "d", n=2)
    write_mask(root / "masks" / "img1.png", np.full((32, 32), 3, np.uint8))
    with pytest.raises(OocytesegError, match="img1.png.*class index 3"):
        train_gan(root, tmp_path / "run", tiny_config(steps=1, batch_size=1), progress=False)


def test_same_seed_same_training(pair_dir: Path, tmp_path: Path) -> None:
    a = load_checkpoint(train_gan(pair_dir, tmp_path / "a", tiny_config(), progress=False).checkpoint)
    b = load_checkpoint(train_gan(pair_dir, tmp_path / "b", tiny_config(), progress=False).checkpoint)
    assert all(torch.equal(a["generator"][k], b["generator"][k]) for k in a["generator"])


def test_overwrite_with_bad_data_keeps_the_old_run(pair_dir: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train_gan(pair_dir, run_dir, tiny_config(steps=1), progress=False)
    with pytest.raises(OocytesegError):
        train_gan(tmp_path / "nothing-here", run_dir, tiny_config(steps=1), overwrite=True, progress=False)
    assert (run_dir / "checkpoints" / "last.pt").is_file()
