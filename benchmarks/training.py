"""Training throughput (images/s) of each registered model on this machine.

Times full optimiser steps (forward, loss, backward, AdamW step) on random images of the given size,
after warm-up steps, with the project's loss. Prints a Markdown table.

    PYTHONPATH=src python benchmarks/training.py --size 240 320 --batch-size 4 --steps 5
    PYTHONPATH=src python benchmarks/training.py --models unet_small --kwargs '{"base_channels": 8}' --threads 1
    PYTHONPATH=src python benchmarks/training.py --models unet_effnet_lite0_hr --size 320 384 --channels-last both

`--channels-last both` times each model with contiguous (NCHW) and channels-last (NHWC) weights and images,
alternating, as the training engine's `trainer.channels_last` does.

"CPU s / step" is the process's CPU time per step: on a shared, loaded machine it stays comparable
where wall-clock time does not.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from oocyteseg.models import count_parameters, create_model, list_models
from oocyteseg.training.losses import create_loss


def step_time(name: str, size: tuple[int, int], batch: int, steps: int, warmup: int, num_classes: int,
              loss_name: str, device: str, kwargs: dict | None = None,
              channels_last: bool = False) -> tuple[float, float, int]:
    """Median wall seconds and median CPU seconds per optimiser step, and the parameter count."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = create_model(name, num_classes, **(kwargs or {})).to(device).train().to(memory_format=fmt)
    loss_fn = create_loss(loss_name).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, *size, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (batch, *size), device=device)
    times, cpu = [], []
    for i in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    times.sort()
    cpu.sort()
    return times[len(times) // 2], cpu[len(cpu) // 2], count_parameters(model)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=None, help="default: every non-tiny registered model")
    p.add_argument("--size", nargs=2, type=int, default=[240, 320], metavar=("H", "W"))
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--classes", type=int, default=4)
    p.add_argument("--loss", default="ce+dice")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--device", default="cpu")
    p.add_argument("--kwargs", default="{}", help="JSON model options applied to every model, e.g. '{\"base_channels\": 8}'")
    p.add_argument("--channels-last", choices=["no", "yes", "both"], default="no",
                   help="memory order of weights and images: NCHW (no), NHWC (yes), or both, alternating")
    p.add_argument("--rounds", type=int, default=1, help="time every (model, layout) this many times, alternating")
    a = p.parse_args()
    layouts = {"no": [False], "yes": [True], "both": [False, True]}[a.channels_last]
    torch.set_num_threads(a.threads)
    models = a.models or list_models(include_tiny=False)
    print(f"# Training throughput: {a.size[0]}x{a.size[1]}, batch {a.batch_size}, loss {a.loss}, AdamW, "
          f"{a.steps} timed steps after {a.warmup} warm-up, device {a.device}, {a.threads} threads, "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}, model options {a.kwargs}\n")
    print("| model | layout | round | parameters (M) | s / step | CPU s / step | images / s |")
    print("|:---|:---|---:|---:|---:|---:|---:|")
    for name in models:
        for r in range(1, a.rounds + 1):
            for cl in layouts:
                layout = "channels-last" if cl else "contiguous"
                try:
                    sec, cpu, n = step_time(name, tuple(a.size), a.batch_size, a.steps, a.warmup, a.classes,
                                            a.loss, a.device, json.loads(a.kwargs), channels_last=cl)
                except Exception as exc:  # a model that cannot run at this size is reported, not fatal
                    print(f"| {name} | {layout} | {r} | - | failed: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:60]} | - | - |")
                    continue
                print(f"| {name} | {layout} | {r} | {n / 1e6:.2f} | {sec:.3f} | {cpu:.3f} | {a.batch_size / sec:.2f} |",
                      flush=True)


if __name__ == "__main__":
    main()
