"""Video analysis benchmark: end-to-end frames/s (decode + segmentation + features + all outputs written)
on a phantom 480x640 video, per model and backend, a per-stage profile, and peak memory against length.

Run: PYTHONPATH=src python benchmarks/analyze.py [--seconds 10] [--deeplab-frames 8]
     [--memory-seconds 30 120] [--fast-checkpoint model.pt] [--no-int8] [--doc docs/performance.md]

Rows: the real-time model (untrained `unet_effnet_lite0_hr` at 480x640, the default since 2026-12-07, unless
--fast-model / --fast-checkpoint name another; ONNX Runtime float32 and static INT8 — calibrated on the
benchmark's own rendered frames, as `oocyteseg export --int8` does on a lab's stills — and torch, as threads x
workers: intra-op threads per segmentation worker x workers; 1 x 2 is `analyze`'s default on 2 cores)
and DeepLabV3-ResNet50 (torch, at 480x640 as in the seeds; a few frames). The stage profile and the memory runs
use the first model's INT8 file (float32 with --no-int8): what `analyze` runs by default. Memory: `analyze` runs in a
subprocess on a long phantom video (distinct frames rendered once, then played back and forth) while
the parent samples its RSS from /proc; the peak is also read with getrusage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from oocyteseg.inference import AnalyzeConfig, export_checkpoint_onnx, load_predictor
from oocyteseg.inference.quantize import quantize_int8
from oocyteseg.morphometry.features import frame_features
from oocyteseg.morphometry.injection import InjectionTracker
from oocyteseg.io.video import VideoWriter, iter_frames
from oocyteseg.models import create_model, load_checkpoint, make_model_config, save_checkpoint
from oocyteseg.phantom.dataset import case_seed
from oocyteseg.phantom.params import sample_case
from oocyteseg.phantom.render import render_frame
from oocyteseg.pipelines.analysis import run_analysis
from oocyteseg.reports.overlay import annotate_frame

MARK_START, MARK_END = "<!-- analyze-benchmark:start -->", "<!-- analyze-benchmark:end -->"


def render_frames(n: int, seed: int = 0) -> list[np.ndarray]:
    params = sample_case(case_seed(seed, 0), "bench", 480, 640)
    return [render_frame(params, k / max(1, n - 1), duration_s=n / 24, frame_index=k)[0] for k in range(n)]


def write_video(path: Path, frames: list[np.ndarray], total: int, fps: float = 24.0) -> Path:
    """`total` frames cycling back and forth through `frames` (smooth motion, cheap to make)."""
    period = max(1, 2 * len(frames) - 2)
    with VideoWriter(path, fps=fps) as w:
        for i in range(total):
            k = i % period
            w.write(frames[k if k < len(frames) else period - k])
    return path


def checkpoint(folder: Path, name: str, size: tuple[int, int], given: str | None) -> Path:
    """`given`, or an untrained checkpoint of `name` at `size` (made once in `folder`)."""
    if given:
        return Path(given)
    path = folder / f"{name}-{size[0]}x{size[1]}.pt"
    if not path.is_file():
        save_checkpoint(path, create_model(name, num_classes=4), make_model_config(name, 4),
                        {"size": list(size), "labelset": "icsi"}, overwrite=True)
    return path


def time_analysis(video: Path, model: Path, out: Path, backend: str, threads: int | None, workers: int = 2) -> dict:
    outcome = run_analysis([video], model, out, AnalyzeConfig(batch_size=4, workers=workers), backend=backend,
                           threads=threads, overwrite=True)
    if outcome.failed:
        raise RuntimeError(outcome.failed[0][1])
    r = outcome.done[0]
    return {"frames": r.frames, "seconds": r.seconds, "fps": r.frames / r.seconds}


def stage_profile(video: Path, model: Path, out: Path, threads: int) -> dict[str, float]:
    """ms per frame of each stage run alone, one after the other, on the first 48 frames."""
    predictor, _ = load_predictor(model, "onnx", threads=threads)
    t = time.perf_counter()
    frames = [f for _, f in zip(range(48), iter_frames(video))]
    ms = {"decode": (time.perf_counter() - t) / len(frames) * 1e3}
    predictor.predict([f.image for f in frames[:4]], batch_size=4)  # warm-up (first run allocates)
    t = time.perf_counter()
    masks = []
    for i in range(0, len(frames), 4):
        masks += predictor.predict([f.image for f in frames[i:i + 4]], batch_size=4)
    ms["segment (ONNX, incl. resize + argmax)"] = (time.perf_counter() - t) / len(frames) * 1e3
    t = time.perf_counter()
    feats = [frame_features(m) for m in masks]
    ms["features"] = (time.perf_counter() - t) / len(frames) * 1e3
    t = time.perf_counter()
    tracker = InjectionTracker(predictor.labels, None, 24.0)  # issue #17: every frame, in the features thread
    for f, m in zip(frames, masks):
        tracker.update(f.index, f.time_s, m)
    ms["injection tracker"] = (time.perf_counter() - t) / len(frames) * 1e3
    t = time.perf_counter()
    with VideoWriter(out / "profile-overlay.mp4", fps=24, quality=23) as w:
        for f, m, x in zip(frames, masks, feats):
            w.write(annotate_frame(f.image, m, predictor.labels, x, f.time_s))
    ms["overlay draw + H.264"] = (time.perf_counter() - t) / len(frames) * 1e3
    return ms


_CHILD = """
import json, re, sys
from oocyteseg.inference import AnalyzeConfig
from oocyteseg.pipelines.analysis import run_analysis
import onnxruntime, torch  # noqa: F401  (loaded by the analysis anyway; counted in the baseline)
status = open("/proc/self/status").read()
print(json.dumps({"baseline_mib": int(re.search(r"VmRSS:\\s+(\\d+)", status).group(1)) / 1024}), flush=True)
o = run_analysis([sys.argv[1]], sys.argv[2], sys.argv[3], AnalyzeConfig(batch_size=4), backend="onnx",
                 threads=int(sys.argv[4]), overwrite=True)
print(json.dumps({"frames": o.done[0].frames, "seconds": o.done[0].seconds}))
"""


def memory_run(video: Path, model: Path, out: Path, threads: int) -> dict:
    """Analyse `video` in a child process whose RSS the parent samples every 0.05 s (from /proc).

    (getrusage's ru_maxrss is not used: on Linux a child started by fork+exec inherits the parent's
    high-water mark, here the parent holding DeepLab.)
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(video), str(model), str(out), str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    samples = []
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            samples.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
        except (OSError, AttributeError):
            pass
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise RuntimeError(stderr[-2000:])
    lines = [json.loads(line) for line in stdout.strip().splitlines() if line.startswith("{")]
    result = {**lines[0], **lines[-1]}
    at = {q: samples[min(len(samples) - 1, int(q * len(samples)))] if samples else float("nan")
          for q in (0.25, 0.5, 0.9)}
    return {**result, "peak_mib": max(samples) if samples else float("nan"), "rss_at": at}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()}, no GPU; load average {load:.1f} at start"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "oocyteseg-bench-analyze"))
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the speed video (24 fps)")
    ap.add_argument("--deeplab-frames", type=int, default=8)
    ap.add_argument("--memory-seconds", type=float, nargs="*", default=[30.0, 120.0],
                    help="lengths of the memory videos (the task asks 600: pass it on a quiet machine)")
    ap.add_argument("--fast-checkpoint", nargs="*", help="trained checkpoint(s) of real-time models (default: "
                    "untrained --fast-model); the first one is profiled and memory-tested")
    ap.add_argument("--fast-model", default="unet_effnet_lite0_hr", help="registered model for the untrained default")
    ap.add_argument("--fast-size", type=int, nargs=2, default=[480, 640])
    ap.add_argument("--no-int8", action="store_true", help="skip the static INT8 rows")
    ap.add_argument("--doc", help="write the tables into this Markdown file (own section, replaced on re-run)")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    host = machine()
    print(f"# analyze benchmark, {started}; {host}", flush=True)

    frames = render_frames(48)
    video = write_video(work / "speed.mp4", frames, int(args.seconds * 24))
    short = write_video(work / "deeplab.mp4", frames, args.deeplab_frames)
    deeplab = checkpoint(work, "deeplabv3_resnet50", (480, 640), None)
    plan, fast_models = [], []  # (label, model file, clip, backend, threads, model input) per row
    for i, given in enumerate(args.fast_checkpoint or [None]):
        fast = checkpoint(work, args.fast_model, tuple(args.fast_size), given)
        _, config, extra = load_checkpoint(fast)
        name, size = config["name"], tuple((extra or {}).get("size") or args.fast_size)
        fast_onnx = export_checkpoint_onnx(fast, work / f"fast{i}.onnx", overwrite=True)
        small = (size[0] * 4 // 5 // 16 * 16, size[1] * 4 // 5 // 16 * 16)  # 192x256 for 240x320
        fast_small = export_checkpoint_onnx(fast, work / f"fast{i}-small.onnx", size=small, overwrite=True)
        runs = [(name, fast_onnx, video, "onnx", 1, 2, size), (name, fast_onnx, video, "onnx", 2, 1, size),
                (name, fast_onnx, video, "onnx", 1, 1, size), (name, fast_small, video, "onnx", 1, 2, small)]
        deployed = fast_onnx
        if not args.no_int8:
            deployed = quantize_int8(fast_onnx, work / f"fast{i}-int8.onnx", frames[::3], overwrite=True)
            runs = [(f"{name} INT8", deployed, video, "onnx", 1, 2, size),
                    (f"{name} INT8", deployed, video, "onnx", 2, 1, size)] + runs
        fast_models.append((name, deployed, given))
        plan += runs + [(name, fast, video, "torch", 1, 2, size), (name, fast, video, "torch", 2, 1, size)]
    plan.append(("deeplabv3_resnet50", deeplab, short, "torch", 2, 1, (480, 640)))
    fast_name, fast_onnx, _ = fast_models[0]
    rows = []
    for label, model, clip, backend, threads, workers, size in plan:
        r = time_analysis(clip, model, work / f"out-{len(rows):02d}-{label}-{backend}-{threads}x{workers}", backend,
                          threads, workers)
        rows.append(f"| {label} | {backend} | {size[0]}x{size[1]} | {threads} x {workers} | {r['frames']} | "
                    f"{r['seconds']:.1f} | {r['fps']:.3g} |")
        print(rows[-1], file=sys.stderr, flush=True)  # progress; the table is printed at the end
    profile = stage_profile(video, fast_onnx, work, threads=1)
    prof_rows = [f"| {k} | {v:.1f} |" for k, v in profile.items()]
    prof_rows.append(f"| sum (no overlap) | {sum(profile.values()):.1f} |")
    print("\n".join(prof_rows), file=sys.stderr, flush=True)
    mem_rows = []
    for seconds in args.memory_seconds:
        long_video = write_video(work / f"long-{int(seconds)}s.mp4", frames, int(seconds * 24))
        m = memory_run(long_video, fast_onnx, work / f"mem-{int(seconds)}", threads=1)
        mem_rows.append(f"| {seconds:.0f} s ({m['frames']} frames) | {m['frames'] / m['seconds']:.1f} | "
                        f"{m['baseline_mib']:.0f} | " + " | ".join(f"{m['rss_at'][q]:.0f}" for q in (0.25, 0.5, 0.9)) + f" | {m['peak_mib']:.0f} |")
        print(mem_rows[-1], file=sys.stderr, flush=True)

    cmd = "PYTHONPATH=src python benchmarks/analyze.py " + " ".join(sys.argv[1:])
    load = os.getloadavg()[0]
    # The analysis itself keeps several threads busy (decode, ONNX Runtime, encode), so a load average
    # above the core count at the end does not prove other jobs; the start value is the one to check.
    shared = (f" Load average {load:.1f} at the end (the analysis runs several threads). If the start value is "
              f"above {os.cpu_count()}, other jobs shared the CPU: numbers then vary by +-30 % between runs.")
    deployed = f"{fast_name}{'' if args.no_int8 else ' INT8'}"
    weights = (f"trained checkpoint(s) {', '.join(str(g) for _, _, g in fast_models)}" if args.fast_checkpoint
               else "untrained weights") + f"; stage profile and memory with {deployed}"
    int8_note = ("" if args.no_int8 else " INT8: static QDQ export (`oocyteseg.inference.quantize.quantize_int8`) "
                 "calibrated on 16 of the benchmark's rendered frames.")
    text = "\n".join([
        MARK_START, "## Video analysis (`oocyteseg analyze`)", "",
        f"Measured {started} with `{cmd}` on {host}.{shared}",
        f"Phantom 480x640 H.264 video, 24 fps; fast models with {weights}. frames/s = analysed frames / wall time "
        "of the whole analysis (decode, segmentation, features, temporal QC, mask chunks, features CSV+Parquet, "
        "overlay MP4, summary), model loading excluded." + int8_note, "",
        "| model | backend | model input | threads x workers | frames | seconds | frames/s |", "|---|---|---|---|---|---|---|",
        *rows, "", f"Each stage alone ({deployed}; ms per frame, ONNX Runtime 1 thread, first 48 frames):", "",
        "| stage | ms/frame |", "|---|---|", *prof_rows, "",
        f"Memory of `analyze` ({deployed}, ONNX Runtime, 1 thread x 2 workers, overlay on) in a subprocess, against video length "
        "(RSS sampled every 0.05 s by the parent). 'after imports' is the child's RSS once the libraries are "
        "loaded (torch, torchvision, smp, ONNX Runtime, OpenCV, PyAV, pandas), before any frame. RSS at "
        "25/50/90 % of the run shows whether memory grows with the frames processed:", "",
        "| video | frames/s | RSS after imports [MiB] | RSS at 25 % of the run | at 50 % | at 90 % | peak [MiB] |",
        "|---|---|---|---|---|---|---|", *mem_rows, MARK_END])
    print(text)
    if args.doc:
        doc = Path(args.doc)
        old = doc.read_text() if doc.is_file() else "# Performance\n\n"
        if MARK_START in old:
            new = old[:old.index(MARK_START)] + text + old[old.index(MARK_END) + len(MARK_END):]
        else:
            new = old.rstrip() + "\n\n" + text + "\n"
        doc.write_text(new)
        print(f"written: {doc}")


if __name__ == "__main__":
    main()
