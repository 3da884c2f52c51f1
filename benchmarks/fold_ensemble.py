"""Several runs of one Shimotsu study recipe as an ensemble: does averaging their fold models' logits steady the
small sERCs? Per held-out case, each run's fold model and the ensemble (logits averaged over the runs, then the
one logits -> labels step) are scored on the same stills: IoU per class, f1-f4 relative errors, tip error.

The runs must hold the same cases and stills (the phantom is seeded: `make results-shimotsu` renders the same data
each time; checked here by comparing the manifests' image files byte for byte on one still per case).

Run: PYTHONPATH=src python benchmarks/fold_ensemble.py --studies runs/results/shimotsu-hr-fast \
         runs/results/shimotsu-hr-800 runs/results/shimotsu-hr-morning [--cases case04 case06] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fold_models import report, score_predictions, study_models  # noqa: E402

from oocyteseg.classes import ICSI  # noqa: E402
from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.data.preprocess import logits_to_labels, torch_runner  # noqa: E402
from oocyteseg.evaluation.metrics import confusion_matrix  # noqa: E402
from oocyteseg.evaluation.tables import table_to_markdown  # noqa: E402
from oocyteseg.inference.predictor import TorchPredictor  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402


def _md5(path: str) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def case_logits(model: Path, images: list[np.ndarray], batch_size: int = 4) -> tuple[list[np.ndarray], object]:
    """Raw logits of each image (the model's input spec, the one preprocessing path) and that spec."""
    predictor = TorchPredictor.from_checkpoint(model, device="cpu")
    run, spec, out = torch_runner(predictor.model, "cpu"), predictor.spec, []
    for i in range(0, len(images), batch_size):
        out += list(run(spec.batch(images[i:i + batch_size])))
    return out, spec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", nargs="+", required=True, help="finished study folders (two or more)")
    ap.add_argument("--model", default="hr-crops-cpu", help="the studies' model folder")
    ap.add_argument("--cases", nargs="*", help="held-out cases (default: all)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="CSV of the rows (optional)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    studies = [Path(s) for s in args.studies]
    if len(studies) < 2:
        sys.exit("give two or more --studies")
    manifests = [load_manifest(s / "dataset" / "manifest.csv", "icsi") for s in studies]
    rows = manifests[0][manifests[0]["mask_path"] != ""].reset_index(drop=True)
    folds = [study_models(s / args.model / "cv") for s in studies]
    cases = args.cases or sorted(folds[0])
    names = [s.name for s in studies]
    records = []
    for case in cases:
        case_rows = rows[rows["case"] == case].reset_index(drop=True)
        for s, m in zip(studies[1:], manifests[1:]):  # the same stills in every run
            other = m[(m["case"] == case) & (m["mask_path"] != "")].reset_index(drop=True)
            first = case_rows["image_path"].iloc[0]
            if len(other) != len(case_rows) or _md5(other["image_path"].iloc[0]) != _md5(first):
                sys.exit(f"{s}: {case}'s stills differ from {studies[0]}'s; the runs must share their data")
        images = [read_image(p) for p in case_rows["image_path"]]
        truths = [read_mask(p) for p in case_rows["mask_path"]]
        per_run = []
        for name, f in zip(names, folds):
            if case not in f:
                sys.exit(f"{case}: not a held-out case of {name}")
            per_run.append(case_logits(f[case], images))
        spec = per_run[0][1]
        variants = {name: logits for name, (logits, _) in zip(names, per_run)}
        variants[f"ensemble of {len(names)}"] = [np.mean(stack, axis=0) for stack in zip(*(lg for lg, _ in per_run))]
        for name, logits in variants.items():
            preds = [logits_to_labels(lg, *im.shape[:2], spec) for lg, im in zip(logits, images)]
            cm = sum(np.asarray(confusion_matrix(p, t, ICSI.num_classes), dtype=np.int64)
                     for p, t in zip(preds, truths))
            records.append({"case": case, "model": name, **score_predictions(preds, case_rows, list(ICSI.classes), cm)})
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in records[-1].items()}, flush=True)
    df = report(records, args.out, "per case", f"mean over {len(cases)} cases")
    serc = df.pivot(index="case", columns="model", values="sERC")
    print(table_to_markdown(serc.reset_index(), digits=3, title="sERC IoU per case"))


if __name__ == "__main__":
    main()
