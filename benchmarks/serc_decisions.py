"""Cheap decisions on a finished Shimotsu study's fold models: would another decision rule lift the small
sERCs and the thin needle? No training: each fold's test model (the one Table 2 scored) predicts its
held-out case again through the one preprocessing path, and per-case IoU is printed for
  plain      the study's own decision (arg-max of the upsampled logits; must reproduce Table 2),
  sERC+b     b added to the sERC logit before the arg-max (b = -1, -0.5, 0.5, 1),
  adj t      logit adjustment for the class-weighted cross-entropy: t x log(w_c) subtracted from class c's
             logit, w the fold's median-frequency class weights (recomputed from its training masks as the
             engine does); t = 1 undoes the prior shift the weights put into the cross-entropy's optimum
             (Menon et al. 2021, "Long-tail learning via logit adjustment"), t = 0.25 / 0.5 part of it,
  flip-TTA   softmax averaged over the frame and its mirror image (doubles the inference cost).

Run (after `make results-shimotsu`; about 2 minutes for 11 folds on 2 cores):
    PYTHONPATH=src python benchmarks/serc_decisions.py --study runs/results/shimotsu --model unet_effnet_lite0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.data.preprocess import InputSpec, logits_to_labels, torch_runner  # noqa: E402
from oocyteseg.evaluation.metrics import confusion_matrix, iou_from_confusion  # noqa: E402
from oocyteseg.evaluation.tables import table_to_markdown  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402
from oocyteseg.models import load_checkpoint  # noqa: E402
from oocyteseg.classes import labels_from_extra  # noqa: E402
from oocyteseg.training.config import load_config  # noqa: E402
from oocyteseg.training.cv import fold_model  # noqa: E402
from oocyteseg.training.engine import resolve_class_weights  # noqa: E402

BIASES = (-1.0, -0.5, 0.5, 1.0)
ADJUST = (0.25, 0.5, 1.0)


def variants(run, spec: InputSpec, image: np.ndarray, serc: int, log_w: np.ndarray) -> dict[str, np.ndarray]:
    """Label maps of one image under each decision."""
    h, w = image.shape[:2]
    batch = spec.batch([image, np.ascontiguousarray(image[:, ::-1])])
    logits = run(batch)
    plain, mirrored = logits[0], logits[1][:, :, ::-1]
    out = {"plain": logits_to_labels(plain, h, w, spec)}
    for b in BIASES:
        biased = plain.copy()
        biased[serc] += b
        out[f"sERC{b:+g}"] = logits_to_labels(biased, h, w, spec)
    for t in ADJUST:
        out[f"adj {t:g}"] = logits_to_labels(plain - (t * log_w)[:, None, None].astype(np.float32), h, w, spec)
    soft = torch.softmax(torch.from_numpy(np.stack([plain, np.ascontiguousarray(mirrored)])), 1).mean(0)
    out["flip-TTA"] = logits_to_labels(torch.log(soft).numpy(), h, w, spec)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default=str(ROOT / "runs" / "results" / "shimotsu"))
    ap.add_argument("--model", default="unet_effnet_lite0")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="CSV of the per-case IoU (default: STUDY/MODEL/serc_decisions.csv)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    study = Path(args.study)
    rows = load_manifest(study / "dataset" / "manifest.csv", "icsi")
    records = []
    for fold in sorted((study / args.model / "cv").glob("fold-*")):
        config = load_config(fold / "config.yaml")
        path = fold_model(config, fold)
        weights = resolve_class_weights(config, rows[rows["case"].isin(config.data.train_cases)])
        log_w = np.log(np.maximum(np.asarray(weights, np.float64), 1e-12))
        (case,) = json.loads((fold / "data.json").read_text())["val_cases"]
        model, _, extra = load_checkpoint(path, map_location="cpu")
        spec, run = InputSpec.from_extra(extra), torch_runner(model.eval())
        names = list(labels_from_extra(extra).classes)
        if "sERC" not in names:
            sys.exit(f"{path}: the model has no sERC class ({', '.join(names)}); this benchmark is for ICSI models")
        serc, k = names.index("sERC"), len(names)
        cms: dict[str, np.ndarray] = {}
        for r in rows[rows["case"] == case].itertuples():
            truth = read_mask(r.mask_path)
            for name, labels in variants(run, spec, read_image(r.image_path), serc, log_w).items():
                cms[name] = cms.get(name, 0) + confusion_matrix(labels, truth, k).numpy()
        for name, cm in cms.items():
            iou = iou_from_confusion(cm)
            ratio = {f"{names[c]} predicted/true": cm[:, c].sum() / max(1, cm[c].sum()) for c in range(1, k)}
            records.append({"case": case, "decision": name, **{names[c]: iou[c] for c in range(1, k)}, **ratio})
        print(case, {n: round(float(iou_from_confusion(cm)[serc]), 3) for n, cm in cms.items()}, flush=True)
    df = pd.DataFrame(records)
    df.to_csv(Path(args.out) if args.out else study / args.model / "serc_decisions.csv", index=False)
    classes = [c for c in df.columns if c not in ("case", "decision") and not c.endswith("predicted/true")]
    df["mean IoU"] = df[classes].mean(axis=1)
    means = df.groupby("decision", sort=False)[[*classes, "mean IoU"]].mean().reset_index()
    print("\n" + table_to_markdown(means, digits=4, title=f"{args.model} in {study}: mean over the held-out cases "
                                    "(IoU of each case's pooled confusion)"))
    per_case = df.pivot(index="case", columns="decision", values="sERC")[list(means["decision"])].reset_index()
    print(table_to_markdown(per_case, digits=3, title="sERC IoU per case"))
    ratios = df[df["decision"] == "plain"][["case", *(f"{c} predicted/true" for c in classes)]]
    print(table_to_markdown(ratios, digits=2, title="plain: predicted / true pixels per case (> 1: over-segmented)"))


if __name__ == "__main__":
    main()
