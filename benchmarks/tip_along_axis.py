"""Where the needle-tip error of a demo run lies: along the needle axis or across it (px), per held-out frame.

Reads a finished `oocyteseg demo --out DIR` (its phantom, exact masks and predicted masks) and prints, for
each held-out still, the exact tip minus the predicted tip projected on the predicted needle axis (+ =
the prediction stops short) and across it, with the true penetration depth past the oolemma.

    PYTHONPATH=src python benchmarks/tip_along_axis.py --demo runs/demo [--case case06]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.io.images import read_mask  # noqa: E402
from oocyteseg.morphometry.features import frame_features  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", default=str(ROOT / "runs" / "demo"))
    ap.add_argument("--case", default="case06")
    args = ap.parse_args()
    demo = Path(args.demo)
    rows = load_manifest(demo / "phantom" / "manifest.csv", "icsi")
    rows = rows[rows["case"] == args.case]
    print("| frame | along axis [px] | across [px] | true penetration [px] |\n|---|---:|---:|---:|")
    along_all = []
    for r in rows.itertuples(index=False):
        pred = read_mask(demo / "predictions" / Path(r.mask_path).name)
        a, m = frame_features(pred), frame_features(read_mask(r.mask_path))
        if not (np.isfinite(a["tip_x"]) and np.isfinite(m["tip_x"])):
            print(f"| {Path(r.mask_path).stem} | – | – | – |")
            continue
        u = np.array([a["needle_axis_x"], a["needle_axis_y"]])
        d = np.array([m["tip_x"] - a["tip_x"], m["tip_y"] - a["tip_y"]])
        along, across = float(d @ u), float(d @ np.array([-u[1], u[0]]))
        along_all.append(along)
        print(f"| {Path(r.mask_path).stem} | {along:.1f} | {across:.1f} | {m['penetration_depth']:.0f} |")
    v = np.array(along_all)
    print(f"\nalong-axis error: median {np.median(v):.1f} px, mean {v.mean():.1f} px over {len(v)} frames")


if __name__ == "__main__":
    main()
