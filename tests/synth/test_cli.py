"""End-to-end smoke test of `oocyteseg synth labelmaps | train-gan | generate` on tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from synth_fakes import tiny_config, write_fake_pairs

from oocyteseg.cli.main import main
from oocyteseg.io.images import read_mask, write_mask
from oocyteseg.synth import config_yaml


def test_synth_cli_end_to_end(tmp_path: Path, capsys) -> None:
    assert main(["synth", "labelmaps", "--n", "3", "--out", str(tmp_path / "lm"), "--seed", "1"]) == 0
    assert len(list((tmp_path / "lm" / "masks").iterdir())) == 3
    assert main(["synth", "labelmaps", "--n", "3", "--out", str(tmp_path / "lm")]) == 2  # exists, no --overwrite
    assert "--overwrite" in capsys.readouterr().err
    within = tmp_path / "ooplasm.png"
    allowed = np.zeros((256, 256), np.uint8)
    allowed[100:160, 90:170] = 1
    write_mask(within, allowed)
    assert main(["synth", "labelmaps", "--n", "5", "--out", str(tmp_path / "lm2"), "--within", str(within)]) == 0
    for path in (tmp_path / "lm2" / "masks").iterdir():
        assert not (read_mask(path).astype(bool) & (allowed == 0)).any()

    data = write_fake_pairs(tmp_path / "pairs", n=4, cases=["a", "b", "c", "d"])
    (tmp_path / "splits.json").write_text(json.dumps({"train": ["a", "b", "c"], "test": ["d"]}))
    cfg = tmp_path / "gan.yaml"
    cfg.write_text(config_yaml(tiny_config(steps=3)))
    run = tmp_path / "run"
    args = ["synth", "train-gan", "--data", str(data / "manifest.csv"), "--out", str(run), "--config", str(cfg),
            "--splits", str(tmp_path / "splits.json"), "--threads", "1"]
    assert main([*args, "--steps", "2"]) == 0
    assert set(pd.read_csv(run / "pairs.csv")["case"]) == {"a", "b", "c"}  # never the test case
    assert main([*args, "--steps", "3", "--resume"]) == 0
    assert list(pd.read_csv(run / "losses.csv")["step"]) == [1, 2, 3]
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["steps"] == 3
    assert "GAN run at step 3" in capsys.readouterr().out

    out = tmp_path / "syn"
    assert main(["synth", "generate", "--gan", str(run), "--n", "3", "--out", str(out), "--seed", "5", "--threads", "1"]) == 0
    assert len(pd.read_csv(out / "manifest.csv")) == 3

    bad = tmp_path / "bad.yaml"
    bad.write_text("generator:\n  widht: 8\n")
    assert main(["synth", "train-gan", "--data", str(data), "--out", str(tmp_path / "r2"), "--config", str(bad)]) == 2
    assert "generator.widht" in capsys.readouterr().err
