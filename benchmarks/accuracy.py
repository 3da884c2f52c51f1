"""Fast vs heavy models: held-out mean IoU on the phantom with one training recipe, and ONNX speed.

Every model is trained with the same recipe (configs/fast-cpu.yaml: 240x320 input, AdamW one-cycle,
CE + Dice with median-frequency weights, photometric augmentation, same seed and steps) on the same
phantom training cases, then its *last* checkpoint (no selection on the test cases) is exported to
ONNX and run through the predictor `oocyteseg analyze` uses, on the held-out cases at native 480x640.
The fast models are also run at smaller inputs (--also-at, default 192x256: `oocyteseg export --size`).
The table gives mean IoU (oocyte, sERC, needle), per-class IoU, the gap to the best heavy model, and
the ONNX Runtime segmentation time per frame (1 thread, resize + argmax included).

Run: PYTHONPATH=src python benchmarks/accuracy.py [--work runs/bench-accuracy] [--steps 300]
     [--fast unet_small lraspp_mobilenet_v3] [--heavy unet_resnet18 deeplabv3plus_resnet50]

Finished models are not retrained (WORK/<model>/result.json); an interrupted training resumes from its
last checkpoint. Training wall time depends on the load of the machine; CPU time is given too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from oocyteseg.classes import ICSI  # noqa: E402
from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.evaluation.metrics import confusion_matrix, summarize  # noqa: E402
from oocyteseg.inference import export_checkpoint_onnx, load_predictor  # noqa: E402
from oocyteseg.io.atomic import write_json  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset  # noqa: E402
from oocyteseg.training.config import load_config, with_updates  # noqa: E402
from oocyteseg.training.engine import train  # noqa: E402

# Model options of the recipe per model (the fast preset's small U-Net has 8 base channels).
KWARGS = {"unet_small": {"base_channels": 8}}


def phantom(work: Path, cases: int, seconds: float, label_fps: float) -> Path:
    manifest = work / "phantom" / "manifest.csv"
    if not manifest.is_file():
        make_phantom_dataset(work / "phantom", PhantomConfig(cases=cases, seed=0, seconds=seconds, label_fps=label_fps,
                                                             video_formats=(), inclusion_images=0), overwrite=True)
    return manifest


def train_model(name: str, args: argparse.Namespace, manifest: Path, train_cases: list[str],
                test_cases: list[str], folder: Path) -> dict:
    cfg = load_config(ROOT / "configs" / "fast-cpu.yaml")
    cfg = with_updates(cfg, {
        "data.manifests": [str(manifest)], "data.train_cases": train_cases, "data.val_cases": test_cases,
        "model.name": name, "model.kwargs": KWARGS.get(name, {}), "optim.max_steps": args.steps,
        "trainer.val_every_n_steps": max(1, args.steps // 3), "trainer.checkpoint_every_n_steps": 25,
        "trainer.cpu_threads": args.threads})
    started = (folder / "checkpoints" / "last.ckpt").is_file()
    result = train(cfg, folder, overwrite=not started, resume=started, progress=False)
    if result.interrupted:
        raise SystemExit(f"training of {name} was interrupted; run again to resume")
    return {"model_path": str(result.last_model_path), "steps": result.steps, "train_seconds": result.seconds,
            "train_cpu_seconds": result.cpu_seconds}


def evaluate(model_path: Path, rows, folder: Path, size: tuple[int, int] | None = None) -> dict:
    """Held-out metrics through the ONNX predictor, at the training size or at `size` (exported there)."""
    name = f"model-{size[0]}x{size[1]}.onnx" if size else "model.onnx"
    onnx = export_checkpoint_onnx(model_path, folder / name, size=size, overwrite=True)
    predictor, info = load_predictor(onnx, "onnx", threads=1)
    images = [read_image(p) for p in rows["image_path"]]
    truths = [read_mask(p) for p in rows["mask_path"]]
    predictor.predict(images[:4], batch_size=4)  # warm-up
    t = time.perf_counter()
    preds = predictor.predict(images, batch_size=4)
    ms = (time.perf_counter() - t) / len(images) * 1e3
    cm = sum(np.asarray(confusion_matrix(p, m, ICSI.num_classes), dtype=np.int64) for p, m in zip(preds, truths))
    return {**summarize(cm, list(ICSI.classes)), "onnx_ms_per_frame": ms, "frames": len(images),
            "size": info["size"], "onnx": str(onnx)}


def params_m(model_path: Path) -> float:
    from oocyteseg.models import load_checkpoint

    model, _, _ = load_checkpoint(model_path)
    return sum(p.numel() for p in model.parameters()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default=str(ROOT / "runs" / "bench-accuracy"))
    ap.add_argument("--fast", nargs="*", default=["unet_effnet_lite0", "unet_small", "lraspp_mobilenet_v3"])
    ap.add_argument("--heavy", nargs="*", default=["unet_resnet18", "deeplabv3plus_resnet50"])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--cases", type=int, default=6, help="phantom cases; the last --test-cases are held out")
    ap.add_argument("--test-cases", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each phantom video")
    ap.add_argument("--label-fps", type=float, default=1.0, help="annotated frames per second (as the paper)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads for training (default: all)")
    ap.add_argument("--also-at", type=int, nargs="*", default=[192, 256], metavar="H W",
                    help="also run the fast models at these input sizes (pairs; exported to ONNX there)")
    ap.add_argument("--only-table", action="store_true", help="print the table of finished models; train nothing")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(args, k) for k in ("steps", "cases", "test_cases", "seconds", "label_fps")}
    saved = work / "settings.json"
    if saved.is_file() and json.loads(saved.read_text()) != settings:
        raise SystemExit(f"error: {work} holds results made with {saved.read_text().strip()}, not {settings}; "
                         "pass another --work (or delete that folder)")
    write_json(saved, settings, overwrite=True)
    manifest = phantom(work, args.cases, args.seconds, args.label_fps)
    rows = load_manifest(manifest, "icsi")
    cases = sorted(rows["case"].unique())
    test_cases, train_cases = cases[-args.test_cases:], cases[:-args.test_cases]
    test = rows[rows["case"].isin(test_cases)].reset_index(drop=True)
    start = dt.datetime.now(dt.timezone.utc)
    print(f"# accuracy benchmark, {start:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, {platform.machine()}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    results = {}
    for role, names in (("fast", args.fast), ("heavy", args.heavy)):
        for name in names:
            folder = work / name
            done = folder / "result.json"
            if done.is_file():
                results[name] = json.loads(done.read_text())
                continue
            if args.only_table:
                continue
            print(f"training {name} ({role}) ...", flush=True)
            r = train_model(name, args, manifest, train_cases, test_cases, folder)
            r.update(evaluate(Path(r["model_path"]), test, folder))
            r.update({"role": role, "params_m": params_m(Path(r["model_path"])),
                      "finished": f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
                      "load_average_end": os.getloadavg()[0]})
            write_json(done, r, overwrite=True)
            results[name] = r
            print(f"  {name}: mean IoU {r['mean_iou']:.4f}, {r['train_seconds'] / 60:.1f} min", flush=True)
    also = [tuple(args.also_at[i:i + 2]) for i in range(0, len(args.also_at) - 1, 2)]
    for name, r in list(results.items()):
        if r["role"] != "fast":
            continue
        for size in also:
            key = f"{size[0]}x{size[1]}"
            if key not in r.setdefault("at", {}):
                r["at"][key] = evaluate(Path(r["model_path"]), test, work / name, size)
                write_json(work / name / "result.json", r, overwrite=True)
            results[f"{name} @ {key}"] = {**r, **r["at"][key], "role": "fast, run smaller"}
    heavy = [r["mean_iou"] for r in results.values() if r["role"] == "heavy"]
    best_heavy = max(heavy) if heavy else float("nan")
    print(f"\nPhantom: {len(cases)} cases x {args.seconds:g} s, annotated at {args.label_fps:g} fps; trained on "
          f"{', '.join(train_cases)} ({int((~rows['case'].isin(test_cases)).sum())} frames), tested on "
          f"{', '.join(test_cases)} ({len(test)} frames) at 480x640. Recipe configs/fast-cpu.yaml at 240x320 for "
          f"{args.steps} steps, batch 4, seed 0; last checkpoint; ONNX Runtime predictor.\n")
    print("| model (@ input size if not the training size) | role | params (M) | steps | train min (CPU min) | mean IoU | oocyte | sERC | needle | "
          "pixel acc. | vs best heavy | ONNX ms/frame (1 thread) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['role']} | {r['params_m']:.2f} | {r['steps']} | {r['train_seconds'] / 60:.1f} "
              f"({r['train_cpu_seconds'] / 60:.1f}) | {r['mean_iou']:.4f} | {r['iou_oocyte']:.3f} | "
              f"{r['iou_sERC']:.3f} | {r['iou_needle']:.3f} | {r['accuracy']:.4f} | "
              f"{r['mean_iou'] - best_heavy:+.4f} | {r['onnx_ms_per_frame']:.1f} |")
    print(f"\nPython {platform.python_version()}, {sys.platform}; table printed "
          f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.")


if __name__ == "__main__":
    main()
