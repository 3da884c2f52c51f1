"""Benchmark every registered (non-tiny) model: size, FLOPs and CPU latency, torch eager vs ONNX Runtime.

Prints a Markdown table. All numbers come from one run, so ratios between models are comparable
even on a machine shared with other jobs (the load average before and after is printed).

    PYTHONPATH=src python benchmarks/models.py                 # all models, 3 timed runs each
    PYTHONPATH=src python benchmarks/models.py --models lraspp_mobilenet_v3 smanet:output_stride=16 --repeats 5

    PYTHONPATH=src python benchmarks/models.py --tiny          # tiny test variants: forward+backward time

A model may carry options as `name:key=value,key=value` (values parsed as Python literals).
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from oocyteseg.models import count_parameters, create_model, export_onnx, get_model_entry, list_models

SIZES = ((480, 640), (256, 256))


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of `run` in milliseconds, after one untimed warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def gflops(model: torch.nn.Module, h: int, w: int) -> float:
    """Forward GFLOPs of one frame (conv/matmul ops; one multiply-add counts 2)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, h, w))
    return counter.get_total_flops() / 1e9


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else the platform's machine string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def ort_version() -> str:
    import onnxruntime as ort

    return ort.__version__


def onnx_session(model: torch.nn.Module, folder: Path, h: int, w: int, threads: int):  # noqa: ANN201
    import onnxruntime as ort

    path = export_onnx(model, folder / f"model_{h}x{w}.onnx", h, w)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def parse_spec(spec: str) -> tuple[str, dict[str, object]]:
    """`"smanet:output_stride=16"` -> `("smanet", {"output_stride": 16})`."""
    name, _, options = spec.partition(":")
    kwargs: dict[str, object] = {}
    for item in filter(None, re.split(r",(?=\w+=)", options)):
        key, _, value = item.partition("=")
        kwargs[key] = ast.literal_eval(value)
    return name, kwargs


def bench_model(spec: str, repeats: int, thread_counts: list[int], num_classes: int) -> list[dict[str, object]]:
    """One row per thread count: parameters, GFLOPs and ms/frame (eager, ONNX Runtime) at each size."""
    torch.manual_seed(0)
    name, kwargs = parse_spec(spec)
    model = create_model(name, num_classes=num_classes, **kwargs).eval()
    rows = [{"model": spec, "threads": t, "params_M": count_parameters(model) / 1e6} for t in thread_counts]
    with tempfile.TemporaryDirectory() as tmp:
        for h, w in SIZES:
            x = torch.rand(1, 3, h, w)
            flops = gflops(model, h, w)
            feed = {"image": x.numpy()}
            for row, threads in zip(rows, thread_counts):
                torch.set_num_threads(threads)
                row[f"gflops_{h}x{w}"] = flops
                with torch.no_grad():
                    row[f"eager_ms_{h}x{w}"] = median_ms(lambda: model(x), repeats)
                session = onnx_session(model, Path(tmp), h, w, threads)
                row[f"onnx_ms_{h}x{w}"] = median_ms(lambda: session.run(None, feed), repeats)
                del session
    return rows


def bench_tiny(name: str, repeats: int, num_classes: int) -> dict[str, object]:
    """Forward+backward ms of a tiny variant on a 2x3x64x64 batch in training mode (the tests' case)."""
    torch.manual_seed(0)
    model = create_model(name, num_classes=num_classes).train()
    x = torch.rand(2, 3, 64, 64)

    def step() -> None:
        model.zero_grad()
        model(x).sum().backward()

    return {"model": name, "params_M": count_parameters(model) / 1e6, "fwd_bwd_ms": median_ms(step, repeats)}


def markdown(rows: list[dict[str, object]]) -> str:
    """The results as a Markdown table."""
    head = ["model", "threads", "params (M)"]
    for h, w in SIZES:
        head += [f"GFLOPs {h}x{w}", f"eager ms {h}x{w}", f"ONNX ms {h}x{w}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"`{r['model']}`", str(r["threads"]), f"{r['params_M']:.2f}"]
        for h, w in SIZES:
            cells += [f"{r[f'gflops_{h}x{w}']:.1f}", f"{r[f'eager_ms_{h}x{w}']:.0f}", f"{r[f'onnx_ms_{h}x{w}']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=list_models(include_tiny=False), help="names[:key=value,...]")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median reported)")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="torch and ONNX Runtime intra-op thread counts"
    )
    parser.add_argument("--num-classes", type=int, default=4)
    parser.add_argument("--tiny", action="store_true", help="time the tiny variants' forward+backward instead")
    args = parser.parse_args()
    if args.tiny:
        torch.set_num_threads(1)
        print(f"forward+backward, batch 2x3x64x64, 1 thread, median of {args.repeats} runs; load average {os.getloadavg()}")
        print("| model | params (M) | fwd+bwd ms |\n|---|---|---|")
        for name in list_models():
            if get_model_entry(name).tiny:
                r = bench_tiny(name, args.repeats, args.num_classes)
                print(f"| `{name}` | {r['params_M']:.3f} | {r['fwd_bwd_ms']:.0f} |")
        return

    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    for name in args.models:
        rows.extend(bench_model(name, args.repeats, args.threads, args.num_classes))
        print(f"done {name}", flush=True)
    load_after = os.getloadavg()

    print()
    print(f"date: {started:%Y-%m-%d %H:%M} UTC; machine: {cpu_name()}, "
          f"{os.cpu_count()} CPUs, no GPU; torch {torch.__version__}, onnxruntime {ort_version()}, "
          f"batch 1, {args.num_classes} classes, median of {args.repeats} runs after 1 warm-up")
    print(f"load average (1/5/15 min) before: {np.round(load_before, 2).tolist()}, after: {np.round(load_after, 2).tolist()}")
    print()
    print(markdown(rows))


if __name__ == "__main__":
    main()
