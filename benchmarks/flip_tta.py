"""Horizontal-flip test-time augmentation, measured on folds of a finished Shimotsu study: each held-out case's
stills predicted by its fold model through the one preprocessing path (`data.preprocess.predict_labels`),
once plainly and once with the logits of the image and of its mirror image (mirrored back) averaged.
Prints IoU per class and mean IoU (oocyte / sERC / needle) of both, per case, in one run.

Only valid for models whose logits cover the whole input without padding (the spec's valid region is the
whole frame), which the study's 480x640 models do; the script checks it.

Run: PYTHONPATH=src python benchmarks/flip_tta.py --study runs/results/shimotsu-hr --model hr-crops-cpu \
         --cases case04 case05 case06 [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.data.preprocess import InputSpec, predict_labels, torch_runner  # noqa: E402
from oocyteseg.evaluation.metrics import confusion_matrix, summarize  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402
from oocyteseg.models import load_checkpoint  # noqa: E402
from fold_models import study_models  # noqa: E402

CLASSES = ["background", "oocyte", "sERC", "needle"]


def flip_runner(run):
    """`run` whose logits are the mean of the image's and the mirrored image's (mirrored back)."""
    def tta(batch: np.ndarray) -> np.ndarray:
        return (run(batch) + run(np.ascontiguousarray(batch[..., ::-1]))[..., ::-1]) / 2.0
    return tta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", required=True)
    ap.add_argument("--model", required=True, help="the model's folder name inside the study")
    ap.add_argument("--cases", nargs="+", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    study = Path(args.study)
    rows = load_manifest(study / "dataset" / "manifest.csv", "icsi")
    models = study_models(study / args.model / "cv")  # held-out case -> the fold model the study tested it with
    unknown = sorted(set(args.cases) - set(models))
    if unknown:
        raise SystemExit(f"{study / args.model / 'cv'}: no fold holds out {', '.join(unknown)}; "
                         f"choose among {', '.join(sorted(models))}")
    print("| case | prediction | oocyte | sERC | needle | mean IoU |\n|:---|:---|---:|---:|---:|---:|")
    for case in args.cases:
        model, _, extra = load_checkpoint(models[case], map_location="cpu")
        model.eval()
        spec = InputSpec.from_extra(extra)
        test = rows[rows["case"] == case]
        images = [read_image(p) for p in test["image_path"]]
        masks = [read_mask(p) for p in test["mask_path"]]
        hw = images[0].shape[:2]
        probe = spec.batch(images[:1])
        if tuple(probe.shape[2:]) != tuple(hw):
            raise SystemExit(f"{models[case]}: the model input {tuple(probe.shape[2:])} is not the frame {hw}: a "
                             "mirrored, padded or resized input would not mirror back onto the frame")
        run = torch_runner(model)
        for name, r in (("plain", run), ("flip TTA", flip_runner(run))):
            out = predict_labels(r, images, spec, batch_size=4)
            s = summarize(sum(np.asarray(confusion_matrix(a, b, 4)) for a, b in zip(out, masks)), CLASSES)
            print(f"| {case} | {name} | {s['iou_oocyte']:.3f} | {s['iou_sERC']:.3f} | {s['iou_needle']:.3f} | "
                  f"{s['mean_iou']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
