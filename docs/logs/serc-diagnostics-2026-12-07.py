"""Why the small sERCs still miss, read from the fold models of a finished Shimotsu study (no training).

Four diagnostics, each printing a Markdown table (results page note of 2026-12-07, "What the fold models say
about the small sERCs"):

    stability   per case: the manual sERC area across the held-out stills against the predicted one (the
                study's stored predictions), its spread, stills with sERC IoU < 0.5 or no sERC at all
    components  sERC IoU per case as predicted, with only the largest predicted sERC component per still,
                and with components under 40 px removed (stored predictions)
    tta         more test-time augmentations through the one preprocessing path: left-right flip (the
                study's --tta flip), all four flips, a 1.2x and a 0.8x rescale
    offsets     a logit offset added to the sERC / needle class (the decision threshold moved), chosen to
                maximise IoU on every 4th still of the fold's own training cases, against no offset and
                against the best offset for the held-out case itself (an oracle, for scale only)

Run from the repository root (2 threads; the study folder as `make results-shimotsu` leaves it):
    .venv/bin/python docs/logs/serc-diagnostics-2026-12-07.py stability
    .venv/bin/python docs/logs/serc-diagnostics-2026-12-07.py tta --cases case04 case06 case05 case10 case07 case01
    .venv/bin/python docs/logs/serc-diagnostics-2026-12-07.py offsets --cases case04 case05 case06
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.data.preprocess import InputSpec, argmax_classes, predict_labels, torch_runner, valid_logits  # noqa: E402
from oocyteseg.evaluation.metrics import confusion_matrix, summarize  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402
from oocyteseg.models import load_checkpoint  # noqa: E402
from fold_models import study_models  # noqa: E402

CLASSES = ["background", "oocyte", "sERC", "needle"]
SERC, NEEDLE = 2, 3


def stored_predictions(study: Path, model: str):
    """(case, [(predicted mask, manual mask)]) per fold, from the study's stored held-out predictions."""
    rows = load_manifest(study / "dataset" / "manifest.csv", "icsi")
    manual = {str(Path(a).resolve()): b for a, b in zip(rows["image_path"], rows["mask_path"])}
    for test in sorted((study / model / "cv").glob("fold-*/test")):
        pred = pd.read_csv(test / "predictions.csv")
        pairs = [(read_mask(test / r["prediction"]), read_mask(manual[str(Path(r["image_path"]).resolve())]))
                 for _, r in pred.iterrows()]
        yield pred["case"].iloc[0], pairs


def stability(study: Path, model: str) -> None:
    print("| case | stills | manual sERC px: median (min-max) | predicted px: median (min-max) | "
          "predicted/manual: mean, CV | stills IoU < 0.5 | stills with no sERC | sERC IoU |")
    print("|:---|---:|---:|---:|---:|---:|---:|---:|")
    for case, pairs in stored_predictions(study, model):
        t_a, p_a, ious, inter, union = [], [], [], 0, 0
        for pred, man in pairs:
            p, t = pred == SERC, man == SERC
            i, u = int((p & t).sum()), int((p | t).sum())
            t_a.append(int(t.sum()))
            p_a.append(int(p.sum()))
            ious.append(i / u if u else np.nan)
            inter, union = inter + i, union + u
        t_a, p_a, ious = map(np.array, (t_a, p_a, ious))
        ratio = p_a / np.maximum(t_a, 1)
        print(f"| {case} | {len(t_a)} | {np.median(t_a):.0f} ({t_a.min()}-{t_a.max()}) | {np.median(p_a):.0f} "
              f"({p_a.min()}-{p_a.max()}) | {ratio.mean():.2f}, {ratio.std() / ratio.mean():.2f} | "
              f"{int((ious < 0.5).sum())} | {int((p_a == 0).sum())} | {inter / union:.3f} |")


def components(study: Path, model: str) -> None:
    print("| case | sERC IoU as predicted | largest component only | components >= 40 px |\n|:---|---:|---:|---:|")
    for case, pairs in stored_predictions(study, model):
        acc = np.zeros((3, 2))
        for pred, man in pairs:
            p, t = pred == SERC, man == SERC
            n, lab, stats, _ = cv2.connectedComponentsWithStats(p.view(np.uint8), connectivity=8)
            largest = lab == (1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))) if n > 1 else p
            kept = np.isin(lab, [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= 40])
            for j, q in enumerate((p, largest, kept)):
                acc[j] += [(q & t).sum(), (q | t).sum()]
        print(f"| {case} | " + " | ".join(f"{i / u:.3f}" for i, u in acc) + " |")


def _flips(run, modes):
    """Mean logits over the listed flips ("h": left-right, "v": up-down), each flipped back."""
    def f(batch):
        total = 0
        for m in modes:
            x = batch[..., ::-1] if "h" in m else batch
            x = x[..., ::-1, :] if "v" in m else x
            y = run(np.ascontiguousarray(x))
            y = y[..., ::-1, :] if "v" in m else y
            total = total + (y[..., ::-1] if "h" in m else y)
        return total / len(modes)
    return f


def _scaled(run, s):
    """Logits of the batch resized by s (sides rounded to multiples of 64), resized back bilinearly."""
    def f(batch):
        h, w = batch.shape[2:]
        size = (int(round(h * s / 64) * 64), int(round(w * s / 64) * 64))
        x = torch.nn.functional.interpolate(torch.from_numpy(batch), size=size, mode="bilinear", align_corners=False)
        y = torch.from_numpy(np.ascontiguousarray(run(x.numpy())))
        return torch.nn.functional.interpolate(y, size=(h, w), mode="bilinear", align_corners=False).numpy()
    return f


def _fold(study: Path, model: str, case: str):
    rows = load_manifest(study / "dataset" / "manifest.csv", "icsi")
    net, _, extra = load_checkpoint(study_models(study / model / "cv")[case], map_location="cpu")
    net.eval()
    return rows, net, InputSpec.from_extra(extra)


def tta(study: Path, model: str, cases: list[str]) -> None:
    print("| case | prediction | oocyte | sERC | needle | mean IoU |\n|:---|:---|---:|---:|---:|---:|")
    for case in cases:
        rows, net, spec = _fold(study, model, case)
        test = rows[rows["case"] == case]
        images = [read_image(p) for p in test["image_path"]]
        masks = [read_mask(p) for p in test["mask_path"]]
        if tuple(spec.batch(images[:1]).shape[2:]) != images[0].shape[:2]:
            raise SystemExit(f"{case}: the model input is not the frame; these augmentations assume it is")
        run = torch_runner(net)
        both = _flips(run, ["", "h"])
        variants = {"plain": run, "flip (the study's --tta flip)": both, "4 flips": _flips(run, ["", "h", "v", "hv"]),
                    "1.2x": _scaled(run, 1.2), "flip + 1.2x flip": lambda b: (both(b) + _scaled(both, 1.2)(b)) / 2,
                    "0.8x flip": _scaled(both, 0.8)}
        for name, r in variants.items():
            out = predict_labels(r, images, spec, batch_size=4)
            s = summarize(sum(np.asarray(confusion_matrix(a, b, 4)) for a, b in zip(out, masks)), CLASSES)
            print(f"| {case} | {name} | {s['iou_oocyte']:.3f} | {s['iou_sERC']:.3f} | {s['iou_needle']:.3f} | "
                  f"{s['mean_iou']:.3f} |", flush=True)


def _logits(net, spec, paths):
    out = []
    for i in range(0, len(paths), 4):
        images = [read_image(p) for p in paths[i:i + 4]]
        with torch.inference_mode():
            batch = net(torch.from_numpy(spec.batch(images))).numpy()
        out += [valid_logits(lg, *im.shape[:2], spec) for lg, im in zip(batch, images)]
    return out


def _iou(logits, masks, c, offset):
    inter = union = 0
    for lg, m in zip(logits, masks):
        shifted = lg.copy()
        shifted[c] += offset
        p, t = argmax_classes(shifted) == c, m == c
        inter, union = inter + int((p & t).sum()), union + int((p | t).sum())
    return inter / max(union, 1)


def offsets(study: Path, model: str, cases: list[str]) -> None:
    grid = np.round(np.arange(-4.0, 1.01, 0.25), 2)
    zero = int(np.flatnonzero(grid == 0)[0])
    print("| case | class | IoU, no offset | offset chosen on training stills | its held-out IoU | "
          "training stills' IoU, no offset -> chosen | best offset for the held-out case | its IoU |")
    print("|:---|:---|---:|---:|---:|---:|---:|---:|")
    for case in cases:
        rows, net, spec = _fold(study, model, case)
        test, train = rows[rows["case"] == case], rows[rows["case"] != case].iloc[::4]
        held = _logits(net, spec, list(test["image_path"]))
        held_m = [read_mask(p) for p in test["mask_path"]]
        fit = _logits(net, spec, list(train["image_path"]))
        fit_m = [read_mask(p) for p in train["mask_path"]]
        for name, c in (("sERC", SERC), ("needle", NEEDLE)):
            tr = [_iou(fit, fit_m, c, d) for d in grid]
            te = [_iou(held, held_m, c, d) for d in grid]
            pick, best = int(np.argmax(tr)), int(np.argmax(te))
            print(f"| {case} | {name} | {te[zero]:.3f} | {grid[pick]:+.2f} | {te[pick]:.3f} | {tr[zero]:.3f} -> "
                  f"{tr[pick]:.3f} | {grid[best]:+.2f} | {te[best]:.3f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["stability", "components", "tta", "offsets"])
    ap.add_argument("--study", default="runs/results/shimotsu-hr-fast")
    ap.add_argument("--model", default="hr-crops-cpu")
    ap.add_argument("--cases", nargs="*", default=["case04", "case05", "case06", "case10"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    study = Path(args.study)
    if args.what in ("stability", "components"):
        globals()[args.what](study, args.model)
    else:
        globals()[args.what](study, args.model, args.cases)


if __name__ == "__main__":
    main()
