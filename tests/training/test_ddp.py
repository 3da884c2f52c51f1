"""Two-process DDP on CPU (gloo) through torchrun, the way a multi-GPU or SLURM job starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oocyteseg.models import load_checkpoint

from .conftest import tiny_config_dict

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.slow
def test_two_process_ddp_run(tiny_phantom, tmp_path):
    raw = tiny_config_dict(tiny_phantom, optim={"name": "adamw", "lr": 3e-3, "batch_size": 1, "max_steps": 2})
    raw["trainer"].update({"accelerator": "cpu", "devices": 2, "strategy": "ddp", "cpu_threads": 1})
    cfg = tmp_path / "ddp.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "oocyteseg.cli.main", "train", "--config", str(cfg), "--out", str(run), "--no-progress"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("trained 2 steps") == 1  # one summary, from rank 0
    model, _, extra = load_checkpoint(run / "model.pt")
    assert extra["step"] == 2
    curve = pd.read_csv(run / "learning_curve.csv")
    assert curve["step"].tolist() == [1, 2] and curve["val_miou"].notna().all()
