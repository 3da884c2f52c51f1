"""Needle-tip prototype: does a second, native-resolution look at the tip help? Prints tip errors (px) of
  (a) the fast model alone (whole frame at 240x320, logits upsampled), and
  (b) the same plus a native-resolution model run on a 128x192 crop around (a)'s tip, whose needle pixels
      are added where they connect to (a)'s needle (components touching its 5x5 dilation),
against the tip of the exact mask, on the held-out case of `benchmarks/recipe.py`'s phantom.

Run after two recipe runs (the preset, and the crop-trained variant):
    PYTHONPATH=src python benchmarks/tip_roi.py --low runs/recipe/effnet-lovasz/model-last.pt \
        --high runs/recipe/effnet-crops/model-last.pt [--manifest runs/recipe/phantom/manifest.csv --case case06]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.data.preprocess import InputSpec  # noqa: E402
from oocyteseg.inference.predictor import TorchPredictor  # noqa: E402
from oocyteseg.inference.tip_refine import refine_tip  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402
from oocyteseg.morphometry.features import frame_features  # noqa: E402

NEEDLE = 3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--low", required=True)
    ap.add_argument("--high", required=True)
    ap.add_argument("--manifest", default=str(ROOT / "runs" / "recipe" / "phantom" / "manifest.csv"))
    ap.add_argument("--case", default="case06")
    args = ap.parse_args()
    rows = load_manifest(args.manifest, "icsi")
    rows = rows[rows["case"] == args.case].reset_index(drop=True)
    low = TorchPredictor.from_checkpoint(args.low, device="cpu")
    high_ckpt = TorchPredictor.from_checkpoint(args.high, device="cpu")
    high = TorchPredictor(high_ckpt.model, InputSpec(None, high_ckpt.spec.mean, high_ckpt.spec.std), "cpu")
    errors = []
    for r in rows.itertuples(index=False):
        image, truth = read_image(r.image_path), read_mask(r.mask_path)
        pred = low.predict([image])[0]
        a, m = frame_features(pred), frame_features(truth)
        b = (frame_features(refine_tip(image, pred, (a["tip_x"], a["tip_y"]), high, NEEDLE))
             if np.isfinite(a["tip_x"]) else a)
        errors.append([np.hypot(f["tip_x"] - m["tip_x"], f["tip_y"] - m["tip_y"]) for f in (a, b)])
    e = np.array(errors)
    print("| tip from | frames | median px | mean px | 90th pct px | max px |\n|---|---:|---:|---:|---:|---:|")
    for k, name in enumerate(("fast model (240x320)", "fast model + native 128x192 crop at the tip")):
        v = e[:, k][np.isfinite(e[:, k])]
        print(f"| {name} | {len(v)} | {np.median(v):.2f} | {v.mean():.2f} | {np.percentile(v, 90):.2f} | {v.max():.2f} |")
    print("per frame:", " ".join(f"{x:.1f}/{y:.1f}" for x, y in e))


if __name__ == "__main__":
    main()
