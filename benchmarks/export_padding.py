"""A/B of the ONNX export with and without fixed "same" padding, in one run, alternating: ONNX Runtime ms per
240x320 frame of the model alone, and end-to-end `analyze` frames/s on one phantom 480x640 video.

A = the graph torch's exporter writes from the model as it is (timm's padding computed from the input at run
time); B = the project's export (`export_onnx`, padding fixed for the export size). Same weights, same
metadata. Prints a Markdown table and the largest logit difference between A and B.

Run: PYTHONPATH=src python benchmarks/export_padding.py CHECKPOINT [--rounds 5] [--work runs/bench-padding]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze import render_frames, write_video  # noqa: E402

from oocyteseg.inference import AnalyzeConfig, export_checkpoint_onnx  # noqa: E402
from oocyteseg.inference.onnx_predictor import OnnxPredictor  # noqa: E402
from oocyteseg.models import load_checkpoint  # noqa: E402
from oocyteseg.pipelines.analysis import run_analysis  # noqa: E402


def export_pair(checkpoint: Path, work: Path) -> dict[str, Path]:
    b = export_checkpoint_onnx(checkpoint, work / "B.onnx", overwrite=True)
    model, _, extra = load_checkpoint(checkpoint)
    h, w = (int(v) for v in extra["size"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(1, 3, h, w),), str(work / "A.onnx"), input_names=["image"],
                          output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=17, do_constant_folding=True, dynamo=False)
    a, meta = onnx.load(str(work / "A.onnx")), onnx.load(str(b)).metadata_props
    a.metadata_props.extend(meta)
    onnx.save(a, str(work / "A.onnx"))
    return {"A": work / "A.onnx", "B": b}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0, help="video length (24 fps)")
    ap.add_argument("--work", default="runs/bench-padding")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    files = export_pair(Path(args.checkpoint), work)
    sessions = {k: OnnxPredictor(p, threads=args.threads, device="cpu").session for k, p in files.items()}
    h, w = sessions["A"].get_inputs()[0].shape[2:]
    x = np.random.default_rng(0).standard_normal((1, 3, h, w)).astype(np.float32)
    ya, yb = (sessions[k].run(None, {"image": x})[0] for k in "AB")
    video = work / "video.mp4"
    if not video.is_file():
        write_video(video, render_frames(48), int(args.seconds * 24))
    ms: dict[str, list[float]] = {"A": [], "B": []}
    fps: dict[str, list[float]] = {"A": [], "B": []}
    for _ in range(args.rounds):
        for k in "AB":
            t, n = time.perf_counter(), 0
            while time.perf_counter() - t < 3:
                sessions[k].run(None, {"image": x})
                n += 1
            ms[k].append((time.perf_counter() - t) / n * 1000)
            done = run_analysis([video], files[k], work / f"out-{k}", AnalyzeConfig(batch_size=4), backend="onnx",
                                threads=args.threads, overwrite=True).done[0]
            fps[k].append(done.frames / done.seconds)
    print(f"max |logits A - B| = {float(np.abs(ya - yb).max()):.2e}; argmax agreement "
          f"{float((ya.argmax(1) == yb.argmax(1)).mean()):.4f}")
    print(f"| export | Pad nodes | model ms/frame ({h}x{w}, {args.threads} threads), median of {args.rounds} | "
          "runs | analyze frames/s, median | runs |")
    print("|---|---|---|---|---|---|")
    for k, name in (("A", "padding computed at run time"), ("B", "padding fixed at export (shipped)")):
        pads = sum(n.op_type == "Pad" for n in onnx.load(str(files[k])).graph.node)
        print(f"| {name} | {pads} | {np.median(ms[k]):.1f} | {' / '.join(f'{v:.1f}' for v in ms[k])} | "
              f"{np.median(fps[k]):.1f} | {' / '.join(f'{v:.1f}' for v in fps[k])} |")


if __name__ == "__main__":
    main()
