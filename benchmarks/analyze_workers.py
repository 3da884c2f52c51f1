"""A/B of `analyze` settings end to end, in one run, alternating: frames/s of whole analyses (decode,
segmentation, features, injection read, mask chunks, tables, overlay MP4) of one phantom 480x640 video with
ONNX Runtime, for each variant THREADSxWORKERS[xBATCH] (intra-op threads per worker, segmentation workers,
frames per batch), optionally also with another source tree (`--baseline-src`, e.g. a `git worktree` of an
older commit) run as THREADSxWORKERSxBATCH@base.

Several models may be given (checkpoints, or ONNX files such as an INT8 export of `benchmarks/int8.py`, used
as they are); every variant runs with each model, alternating.

Each analysis runs in its own child process (nothing carried over between variants); the rounds alternate
the variants so that a slower minute of a shared machine falls on all of them. Prints a Markdown table
(median and every round) and the child's model info.

Run: PYTHONPATH=src python benchmarks/analyze_workers.py MODEL [MODEL ...] [--variants 2x1 1x2 ...] [--rounds 5]
     [--seconds 10] [--baseline-src /tmp/old/src] [--work runs/bench-workers]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze import machine, render_frames, write_video  # noqa: E402

from oocyteseg.inference import export_checkpoint_onnx  # noqa: E402

_CHILD = """
import json, sys
from oocyteseg.inference import AnalyzeConfig
from oocyteseg.pipelines.analysis import run_analysis
video, model, out, threads, workers, batch = sys.argv[1:7]
kw = {"workers": int(workers)} if int(workers) > 1 else {}  # an older tree has no workers setting
o = run_analysis([video], model, out, AnalyzeConfig(batch_size=int(batch), **kw), backend="onnx",
                 threads=int(threads), overwrite=True)
if o.failed:
    raise SystemExit(o.failed[0][1])
d = o.done[0]
print(json.dumps({"frames": d.frames, "seconds": d.seconds}))
"""


def parse_variant(text: str) -> tuple[int, int, int, bool]:
    base = text.endswith("@base")
    parts = [int(v) for v in text.removesuffix("@base").split("x")]
    if not 2 <= len(parts) <= 3 or min(parts) < 1:
        raise SystemExit(f"bad variant {text!r}: use THREADSxWORKERS or THREADSxWORKERSxBATCH (e.g. 1x2, 2x1x4), "
                         "optionally with @base")
    threads, workers, batch = (parts + [4])[:3]
    return threads, workers, batch, base


def run_child(src: str, video: Path, model: Path, out: Path, threads: int, workers: int, batch: int) -> dict:
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(video), str(model), str(out), str(threads), str(workers),
                           str(batch)], capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"analysis failed ({out}): {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="checkpoint(s) (exported to ONNX here) or ONNX file(s) used as given")
    ap.add_argument("--variants", nargs="+", default=["2x1", "1x1", "1x2"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10.0, help="video length (24 fps)")
    ap.add_argument("--baseline-src", help="the `src` folder of another source tree, for variants ending in @base")
    ap.add_argument("--work", default="runs/bench-workers")
    args = ap.parse_args()
    variants = [(v, *parse_variant(v)) for v in args.variants]
    if any(base for *_, base in variants) and not args.baseline_src:
        raise SystemExit("a variant ends in @base: pass --baseline-src SRC_FOLDER")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    print(f"# analyze workers A/B, {started}; {host}", flush=True)
    video = write_video(work / "speed.mp4", render_frames(48), int(args.seconds * 24))
    models = [Path(m) if m.endswith(".onnx") else export_checkpoint_onnx(m, work / f"model{i}.onnx", overwrite=True)
              for i, m in enumerate(args.models)]
    label = {i: Path(m).name if len(args.models) == 1 else f"{i}:{Path(m).name}" for i, m in enumerate(args.models)}
    here = str(Path(__file__).resolve().parents[1] / "src")
    keys = [(i, v) for v in variants for i in range(len(models))]
    fps: dict[tuple, list[float]] = {(i, v[0]): [] for i, v in keys}
    for r in range(args.rounds):
        for i, (name, threads, workers, batch, base) in keys:
            res = run_child(args.baseline_src if base else here, video, models[i],
                            work / f"out-{i}-{name.replace('@', '-')}", threads, workers, batch)
            fps[i, name].append(res["frames"] / res["seconds"])
            print(f"round {r + 1}: {label[i]} {name} {fps[i, name][-1]:.1f} frames/s ({res['frames']} frames)",
                  file=sys.stderr, flush=True)
    cmd = "PYTHONPATH=src python benchmarks/analyze_workers.py " + " ".join(sys.argv[1:])
    print(f"\n`{cmd}`; {args.rounds} rounds, alternating; {host}\n")
    for i, m in enumerate(args.models):
        print(f"model {label[i]}: {m}")
    print("\n| model | variant (threads x workers x batch) | source | median frames/s | rounds |")
    print("|---|---|---|---:|---|")
    for i, (name, threads, workers, batch, base) in keys:
        rounds = " / ".join(f"{v:.1f}" for v in fps[i, name])
        print(f"| {label[i]} | {threads} x {workers} x {batch} | {'baseline' if base else 'this tree'} | "
              f"{statistics.median(fps[i, name]):.1f} | {rounds} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
