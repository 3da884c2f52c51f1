"""Training throughput (images/s) of each registered model on this machine.

Times full optimiser steps (forward, loss, backward, AdamW step) on random images of the given size,
after warm-up steps, with the project's loss. Prints a Markdown table.

    PYTHONPATH=src python benchmarks/training.py --size 240 320 --batch-size 4 --steps 5
    PYTHONPATH=src python benchmarks/training.py --models unet_small lraspp_mobilenet_v3 --threads 2
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from oocyteseg.models import count_parameters, create_model, list_models
from oocyteseg.training.losses import create_loss


def step_time(name: str, size: tuple[int, int], batch: int, steps: int, warmup: int, num_classes: int,
              loss_name: str, device: str) -> tuple[float, int]:
    """Median seconds per optimiser step, and the parameter count."""
    torch.manual_seed(0)
    model = create_model(name, num_classes).to(device).train()
    loss_fn = create_loss(loss_name).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 3, *size, device=device)
    y = torch.randint(0, num_classes, (batch, *size), device=device)
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        loss = loss_fn(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], count_parameters(model)


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
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    models = a.models or list_models(include_tiny=False)
    print(f"# Training throughput: {a.size[0]}x{a.size[1]}, batch {a.batch_size}, loss {a.loss}, AdamW, "
          f"{a.steps} timed steps after {a.warmup} warm-up, device {a.device}, {a.threads} threads, "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}\n")
    print("| model | parameters (M) | s / step | images / s |")
    print("|:---|---:|---:|---:|")
    for name in models:
        try:
            sec, n = step_time(name, tuple(a.size), a.batch_size, a.steps, a.warmup, a.classes, a.loss, a.device)
        except Exception as exc:  # a model that cannot run at this size is reported, not fatal
            print(f"| {name} | - | failed: {type(exc).__name__}: {str(exc).splitlines()[0][:60]} | - |")
            continue
        print(f"| {name} | {n / 1e6:.2f} | {sec:.3f} | {a.batch_size / sec:.1f} |", flush=True)


if __name__ == "__main__":
    main()
