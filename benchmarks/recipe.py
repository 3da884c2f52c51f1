"""Recipe benchmark: one training variant of the fast preset on the demo's phantom (cases 01-05), tested on
the held-out case06 at the native 480x640 through the one preprocessing path; prints one JSON line.

Run (one variant per call; run them one after another, never two at once on a 2-core machine):
    PYTHONPATH=src python benchmarks/recipe.py NAME [--set key=value ...] [--work runs/recipe]
e.g. the variants of docs/training.md ("Recipe"):
    python benchmarks/recipe.py unet_small --set model.name=unet_small --set model.kwargs.base_channels=8 \
        --set augment=photometric --set loss.name=ce+dice
    python benchmarks/recipe.py effnet-ce-dice --set loss.name=ce+dice
    python benchmarks/recipe.py effnet-crops --set loss.name=ce+dice --set data.size=[480,640] \
        --set data.crop=[256,320] --set data.crop_focus=0.5
    python benchmarks/recipe.py effnet-lovasz          # the preset as shipped (configs/fast-cpu.yaml)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from oocyteseg.evaluation.evaluate import evaluate_checkpoint  # noqa: E402
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset  # noqa: E402
from oocyteseg.training.config import load_config  # noqa: E402
from oocyteseg.training.engine import train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("--set", action="append", default=[], dest="sets", help="config override key=value")
    ap.add_argument("--work", default=str(ROOT / "runs" / "recipe"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    work = Path(args.work)
    manifest = work / "phantom" / "manifest.csv"
    if not manifest.is_file():  # the demo's data set: 6 cases x 6 s, 4 annotated frames per second
        make_phantom_dataset(work / "phantom", PhantomConfig(cases=6, seed=0, seconds=6.0, label_fps=4.0, height=480,
                                                             width=640, video_formats=(), inclusion_images=0),
                             overwrite=True)
    cfg = load_config(ROOT / "configs" / "fast-cpu.yaml", [
        f"data.manifests=[{manifest}]", "data.val_cases=[case06]", f"trainer.cpu_threads={args.threads}",
        "trainer.val_every_n_steps=1000", *args.sets])
    result = train(cfg, work / args.name, overwrite=True, progress=False)
    t = time.time()
    res, _ = evaluate_checkpoint(result.last_model_path, manifest, cases=["case06"], device="cpu")
    m = res.overall_metrics()
    row = {"name": args.name, "sets": args.sets, "steps": result.steps, "train_s": round(result.seconds),
           "cpu_s": round(result.cpu_seconds), "eval_s": round(time.time() - t, 1),
           **{k: round(v, 4) for k, v in m.items() if isinstance(v, float)}}
    print(json.dumps(row), flush=True)
    with open(work / "results.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
