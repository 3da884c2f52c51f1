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
