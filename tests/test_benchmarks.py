"""The benchmark scripts that produce committed tables run end to end (tiny settings; no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_accuracy_benchmark_table_resume_and_settings_guard(tmp_path: Path) -> None:
    work = tmp_path / "acc"
    common = ["--work", str(work), "--cases", "3", "--test-cases", "1", "--seconds", "2", "--steps", "2",
              "--fast", "unet_small_tiny", "--heavy", "lraspp_mobilenet_v3_tiny", "unet_resnet18_tiny",
              "--threads", "1", "--also-at", "96", "128"]
    first = _run(*common)
    assert first.returncode == 0, first.stderr[-2000:]
    rows = [line for line in first.stdout.splitlines() if line.startswith("| ") and "_tiny" in line]
    names = ["unet_small_tiny", "lraspp_mobilenet_v3_tiny", "unet_resnet18_tiny"]
    assert [r.split("|")[1].strip() for r in rows] == names + ["unet_small_tiny @ 96x128"]
    results = {name: json.loads((work / name / "result.json").read_text()) for name in names}
    best_heavy = max(r["mean_iou"] for r in results.values() if r["role"] == "heavy")
    for row in rows:
        name, _, size = row.split("|")[1].strip().partition(" @ ")
        r = results[name]["at"][size] if size else results[name]
        assert 0.0 <= r["mean_iou"] <= 1.0 and results[name]["steps"] == 2 and r["frames"] == 2
        assert r["size"] == ([96, 128] if size else [240, 320])
        assert row.split("|")[11].strip() == f"{r['mean_iou'] - best_heavy:+.4f}"  # gap to the best heavy model
    assert sorted(p.name for p in (work / "unet_small_tiny").glob("model*")) == [
        "model-96x128.onnx", "model-last.pt", "model.onnx", "model.pt"]

    # Finished models are reused, not retrained: the second run prints the same table.
    again = _run(*common)
    assert again.returncode == 0 and "(fast) ..." not in again.stdout and "(heavy) ..." not in again.stdout
    assert [line for line in again.stdout.splitlines() if "_tiny" in line] == rows

    # Results made with other settings are never mixed into the table.
    other = _run(*[a if a != "2" or i != common.index("--steps") + 1 else "3" for i, a in enumerate(common)])
    assert other.returncode != 0 and "pass another --work" in other.stderr


def test_flip_tta_mirrors_the_logits_back() -> None:
    """benchmarks/flip_tta.py averages the frame's logits with its mirror image's, mirrored back onto the frame."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import numpy as np
    from flip_tta import flip_runner

    batch = np.random.default_rng(0).random((2, 3, 4, 6)).astype(np.float32)
    assert np.allclose(flip_runner(lambda b: b)(batch), batch)  # an equivariant model is unchanged
    cols = np.arange(6, dtype=np.float32)
    out = flip_runner(lambda b: b + cols)(batch)  # a model that adds its input column to each logit
    assert np.allclose(out, batch + 2.5)  # (c + (5 - c)) / 2 with the mirror put back; without it: c + c


def test_onnx_ops_profile_shares_add_up(tmp_path: Path) -> None:
    """benchmarks/onnx_ops.py prints each operator's share of ONNX Runtime's kernel time; they sum to 100 %."""
    import torch

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 1)).eval()
    path = tmp_path / "tiny.onnx"
    torch.onnx.export(net, (torch.zeros(1, 3, 16, 24),), str(path), input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "n"}, "logits": {0: "n"}}, dynamo=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "onnx_ops.py"), str(path), "--batch", "2",
                          "--size", "16", "24", "--runs", "2"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    tables = out.stdout.split("| node |")
    ops = {line.split("|")[1].strip(): float(line.split("|")[2].strip(" %"))
           for line in tables[0].splitlines() if line.startswith("| ") and "%" in line}
    assert "Conv" in ops and abs(sum(ops.values()) - 100.0) < 0.5
    missing = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "onnx_ops.py"), str(tmp_path / "no.onnx")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "no such ONNX file" in missing.stderr


def test_training_benchmark_times_both_layouts() -> None:
    """benchmarks/training.py --channels-last both prints one row per layout and round."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "training.py"), "--models", "unet_small_tiny",
                          "--size", "32", "48", "--batch-size", "2", "--steps", "1", "--warmup", "0", "--threads", "1",
                          "--channels-last", "both", "--rounds", "2"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split("|")[1:4] for line in out.stdout.splitlines() if line.startswith("| unet_small_tiny")]
    assert [[c.strip() for c in r] for r in rows] == [
        ["unet_small_tiny", "contiguous", "1"], ["unet_small_tiny", "channels-last", "1"],
        ["unet_small_tiny", "contiguous", "2"], ["unet_small_tiny", "channels-last", "2"]]
