"""The needle-tip second look in `analyze`, on every frame of a phantom video: tip error against the exact
masks and frames/s end to end, without and with `--tip-model` (ONNX Runtime, `analyze`'s defaults),
alternating rounds in one run.

Run: PYTHONPATH=src python benchmarks/tip_refine.py MODEL.pt TIP_MODEL.pt VIDEO.mp4 MASKS.npz [--rounds 3]
     [--work runs/bench-tip-refine]
e.g. after `make demo` and `benchmarks/recipe.py crops-native --set data.size=[480,640] --set data.crop=[256,320]
--set data.crop_focus=0.5`: runs/demo/train/model.pt runs/recipe/crops-native/model-last.pt
runs/demo/phantom/icsi/case06/case06.mp4 runs/demo/phantom/icsi/case06/case06_masks.npz
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.inference import AnalyzeConfig
from oocyteseg.morphometry.features import frame_features
from oocyteseg.pipelines.analysis import run_analysis


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("tip_model")
    ap.add_argument("video")
    ap.add_argument("masks", help="the video's exact masks (.npz with `masks`, one per frame)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default="runs/bench-tip-refine")
    args = ap.parse_args()
    truth = [frame_features(m) for m in np.load(args.masks)["masks"]]
    true_tip = np.array([[t["tip_x"], t["tip_y"]] for t in truth])
    true_f = np.array([[t["f3"], t["f4"]] for t in truth])
    fps: dict[str, list[float]] = {"mask only": [], "with --tip-model": []}
    errors: dict[str, np.ndarray] = {}
    for r in range(args.rounds):
        for name, tip in (("mask only", None), ("with --tip-model", args.tip_model)):
            out = Path(args.work) / f"{'tip' if tip else 'base'}"
            o = run_analysis([args.video], args.model, out, AnalyzeConfig(), backend="onnx", tip_model=tip,
                             overwrite=True)
            if o.failed:
                raise SystemExit(o.failed[0][1])
            d = o.done[0]
            fps[name].append(d.frames / d.seconds)
            table = pd.read_parquet(d.out_dir / "features.parquet")
            if len(table) != len(truth):
                raise SystemExit(f"{len(table)} analysed frames but {len(truth)} masks in {args.masks}")
            tip_err = np.hypot(*(table[["tip_x", "tip_y"]].to_numpy(float) - true_tip).T)
            f_err = np.abs(table[["f3", "f4"]].to_numpy(float) - true_f)
            errors[name] = np.column_stack([tip_err, f_err])
            print(f"round {r + 1}: {name} {fps[name][-1]:.1f} frames/s", file=sys.stderr, flush=True)
    cmd = "PYTHONPATH=src python benchmarks/tip_refine.py " + " ".join(sys.argv[1:])
    print(f"`{cmd}`: {len(truth)} frames, {args.rounds} alternating rounds\n")
    print("| tip from | frames with a tip in both | tip error median / mean / 90th pct [px] | |f3| error mean [px] | "
          "|f4| error mean [px] | frames/s (median; rounds) |")
    print("|---|---:|---|---:|---:|---|")
    for name, e in errors.items():
        ok = np.isfinite(e[:, 0])
        t = e[ok, 0]
        rounds = " / ".join(f"{v:.1f}" for v in fps[name])
        print(f"| {name} | {ok.sum()} | {np.median(t):.2f} / {t.mean():.2f} / {np.percentile(t, 90):.2f} | "
              f"{np.nanmean(e[:, 1]):.2f} | {np.nanmean(e[:, 2]):.2f} | {statistics.median(fps[name]):.1f} ({rounds}) |")


if __name__ == "__main__":
    main()
