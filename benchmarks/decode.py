"""Decode throughput of `oocyteseg.io.video` on 480x640 WMV and MP4 phantom videos (frames/s).

Renders a phantom case once, encodes it as WMV (wmv2 in ASF) and MP4 (H.264), then times
`iter_frames` (every frame, RGB) and `sample_frames(fps=1)` (what `oocyteseg frames` does before
writing PNGs). Prints a table; nothing is written outside a temporary folder.

    PYTHONPATH=src python benchmarks/decode.py --seconds 10 --repeats 3
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from oocyteseg.io.video import VideoWriter, iter_frames, probe_video, sample_frames
from oocyteseg.phantom.params import sample_case
from oocyteseg.phantom.render import render_frame


def make_videos(folder: Path, seconds: float, fps: float) -> list[Path]:
    case = sample_case(7, "bench", 480, 640)
    n = int(round(seconds * fps))
    paths = [folder / "bench.wmv", folder / "bench.mp4"]
    writers = [VideoWriter(p, fps=fps) for p in paths]
    for w in writers:
        w.__enter__()
    for i in range(n):
        image, _ = render_frame(case, i / max(1, n - 1), duration_s=seconds, frame_index=i)
        for w in writers:
            w.write(image)
    for w in writers:
        w.__exit__(None, None, None)
    return paths


def best_time(fn, repeats: int) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = sum(1 for _ in fn())
        best = min(best, time.perf_counter() - t0)
    return best, count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="video length (s)")
    ap.add_argument("--fps", type=float, default=24.0, help="video frame rate")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per row (best is reported)")
    args = ap.parse_args()
    table = Table(title=f"Decode throughput, 480x640, {args.seconds:g} s at {args.fps:g} fps "
                        f"({platform.processor() or platform.machine()}, best of {args.repeats})")
    for col in ("video", "codec", "MB", "mode", "decoded", "kept", "seconds", "decoded frames/s", "x real time"):
        table.add_column(col, justify="left" if col in ("video", "codec", "mode") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for path in make_videos(Path(tmp), args.seconds, args.fps):
            info = probe_video(path)
            size = path.stat().st_size / 1e6
            total = sum(1 for _ in iter_frames(path))
            for mode, fn in (("all", lambda p=path: iter_frames(p)),
                             ("fps 1", lambda p=path: sample_frames(p, 1.0))):
                t, kept = best_time(fn, args.repeats)
                # every frame is decoded in both modes; "fps 1" converts only the kept ones to RGB
                table.add_row(path.suffix[1:], info.codec, f"{size:.1f}", mode, str(total), str(kept), f"{t:.3f}",
                              f"{total / t:.0f}", f"{args.seconds / t:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
