"""Where an ONNX model's time goes: ONNX Runtime's own profiler over a few runs of one random batch, summed per
operator type and per node, as shares of the kernel time. Prints two Markdown tables and the ms per image.

Run: PYTHONPATH=src python benchmarks/onnx_ops.py MODEL.onnx [--batch 4] [--size 480 640] [--threads 1] [--runs 3]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", nargs=2, type=int, default=[480, 640], metavar=("H", "W"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()
    if not Path(a.model).is_file():
        raise SystemExit(f"{a.model}: no such ONNX file; export one with `oocyteseg export`")
    with tempfile.TemporaryDirectory(prefix="oocyteseg-ortprof-") as work:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = a.threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(work, "prof")
        session = ort.InferenceSession(a.model, opts, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: np.random.default_rng(0).random((a.batch, 3, *a.size), np.float32)}
        session.run(None, feed)  # warm-up (also profiled: shares are unaffected)
        start = time.perf_counter()
        for _ in range(a.runs):
            session.run(None, feed)
        per_image = (time.perf_counter() - start) / (a.runs * a.batch) * 1000
        events = json.loads(Path(session.end_profiling()).read_text())
    by_op, by_node = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            by_op[e["args"]["op_name"]] += e["dur"]
            by_node[e["name"].removesuffix("_kernel_time")] += e["dur"]
    total = sum(by_op.values())
    print(f"# {a.model}: batch {a.batch} at {a.size[0]}x{a.size[1]}, {a.threads} thread(s), {a.runs} runs: "
          f"{per_image:.1f} ms per image (profiling on)\n")
    print("| operator | share of kernel time |\n|:---|---:|")
    for name, t in by_op.most_common(a.top):
        print(f"| {name} | {100 * t / total:.1f} % |")
    print("\n| node | share of kernel time |\n|:---|---:|")
    for name, t in by_node.most_common(a.top):
        print(f"| `{name}` | {100 * t / total:.1f} % |")


if __name__ == "__main__":
    main()
