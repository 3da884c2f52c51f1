"""INT8 static quantisation check (`oocyteseg.inference.quantize`: QDQ, per-channel weights, 32 calibration
stills outside the test case): held-out mean IoU and ms/frame of the float32 and INT8 ONNX models, one
thread, in one run. The project keeps INT8 only if mean IoU drops by <= 0.005.

Run after `benchmarks/recipe.py effnet-lovasz` (the preset):
    PYTHONPATH=src python benchmarks/int8.py --checkpoint runs/recipe/effnet-lovasz/model-last.pt \
        [--manifest runs/recipe/phantom/manifest.csv --case case06] [--exclude-decoder]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from oocyteseg.data.manifest import load_manifest  # noqa: E402
from oocyteseg.evaluation.metrics import confusion_matrix, summarize  # noqa: E402
from oocyteseg.inference import OnnxPredictor, export_checkpoint_onnx  # noqa: E402
from oocyteseg.inference.quantize import export_int8  # noqa: E402
from oocyteseg.io.images import read_image, read_mask  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--manifest", default=str(ROOT / "runs" / "recipe" / "phantom" / "manifest.csv"))
    ap.add_argument("--case", default="case06")
    ap.add_argument("--exclude-decoder", action="store_true", help="keep the decoder and head in float32")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="oocyteseg-int8-"))
    rows = load_manifest(args.manifest, "icsi")
    f32 = export_checkpoint_onnx(args.checkpoint, work / "f32.onnx", overwrite=True)
    # the library's own quantiser, as `oocyteseg export --int8` runs it (32 stills outside the test case)
    int8, _ = export_int8(f32, work / "int8.onnx", args.manifest, check_cases=[args.case], max_drop=float("inf"),
                          exclude_decoder=args.exclude_decoder, overwrite=True)
    test = rows[rows["case"] == args.case]
    images, masks = [read_image(p) for p in test["image_path"]], [read_mask(p) for p in test["mask_path"]]
    print("| model | ms/frame (1 thread) | mean IoU | oocyte | sERC | needle |\n|---|---:|---:|---:|---:|---:|")
    for name, path in (("float32", f32), ("INT8", int8)):
        p = OnnxPredictor(path, threads=1)
        p.predict(images[:4])
        t = time.perf_counter()
        out = p.predict(images)
        ms = (time.perf_counter() - t) / len(images) * 1e3
        s = summarize(sum(np.asarray(confusion_matrix(a, b, 4)) for a, b in zip(out, masks)),
                      ["background", "oocyte", "sERC", "needle"])
        print(f"| {name} | {ms:.1f} | {s['mean_iou']:.4f} | {s['iou_oocyte']:.3f} | {s['iou_sERC']:.3f} | "
              f"{s['iou_needle']:.3f} |")


if __name__ == "__main__":
    main()
