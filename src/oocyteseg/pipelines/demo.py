"""The demo: the whole oocyteseg job on phantom data, in a few CPU minutes.

phantom data set -> train a fast model on all cases but one -> predict the held-out case at native
resolution -> pixel accuracy, per-class IoU, mean IoU -> the four Shimotsu features on predicted and
true masks and their relative errors -> every frame of the held-out case's video through `analyze`
(ONNX Runtime: masks, features, injection read, overlay video; frames/s end to end) -> a results folder
(CSV + Markdown summary + overlays).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import ICSI
from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.metrics import confusion_matrix, dice_from_confusion, iou_from_confusion, pixel_accuracy
from oocyteseg.inference.predictor import TorchPredictor
from oocyteseg.io.atomic import check_writable, write_json, write_table, write_text
from oocyteseg.io.images import read_image, read_mask, write_image, write_mask
from oocyteseg.morphometry.compare import case_table, compare, table_markdown, tip_error_summary
from oocyteseg.morphometry.table import features_table
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset
from oocyteseg.progress import ProgressFn as Progress
from oocyteseg.reports.overlay import overlay_mask
from oocyteseg.training.config import config_from_dict
from oocyteseg.training.engine import train



@dataclass
class DemoSettings:
    """Sizes of the demo. The defaults finish in a few minutes on a 2-core CPU."""

    cases: int = 6
    seconds: float = 6.0
    label_fps: float = 4.0
    seed: int = 0
    model: str = "unet_effnet_lite0_hr"  # the accurate real-time model (configs/hr-crops-cpu.yaml)
    height: int = 480  # model input size (frames are 480x640; the _hr model halves the image itself)
    width: int = 640
    crop: tuple[int, int] | None = (320, 384)  # training crops at the input size; None trains on whole frames
    crop_focus: float = 0.5  # share of crops centred on a pixel of a foreground class
    int8: bool = True  # analyse the video with a static INT8 export (calibrated on training stills)
    calibration_images: int = 32
    steps: int = 500
    batch_size: int = 4
    lr: float = 3e-3
    loss: str = "ce+dice+lovasz"
    augment: str = "photometric+geometric+flips"
    frame_height: int = 480
    frame_width: int = 640


@dataclass
class DemoResult:
    out_dir: Path
    summary: Path
    mean_iou: float
    pixel_accuracy: float
    iou: dict[str, float]
    seconds: float
    video: dict  # the held-out video's analysis: frames, seconds, fps, folder


def train_config(s: DemoSettings, manifest: Path, held_out: str) -> dict:
    """The training configuration the demo uses (saved with the run)."""
    return {
        "data": {"manifests": [str(manifest)], "labelset": "icsi", "size": [s.height, s.width],
                 "val_cases": [held_out], "crop": list(s.crop) if s.crop else None,
                 "crop_focus": s.crop_focus if s.crop else 0.0},
        "model": {"name": s.model},
        "optim": {"name": "adamw", "lr": s.lr, "weight_decay": 1e-4, "batch_size": s.batch_size,
                  "max_steps": s.steps, "scheduler": "onecycle"},
        "loss": {"name": s.loss, "class_weights": "median_frequency"},
        "augment": s.augment,
        "trainer": {"accelerator": "auto", "devices": 1, "val_every_n_steps": max(1, s.steps // 2),
                    "log_every_n_steps": max(1, min(25, s.steps // 4)),
                    "checkpoint_every_n_steps": max(1, s.steps // 2)},
        "seed": s.seed,
    }


def run_demo(out: str | os.PathLike, settings: DemoSettings | None = None, *, overwrite: bool = False,
             progress: Progress | None = None, show_training_progress: bool = True) -> DemoResult:
    """Run the demo into `out` and return its headline numbers."""
    s = settings or DemoSettings()
    if s.cases < 2:
        raise OocytesegError("the demo needs at least 2 cases (one is held out)", fix="pass --cases 2 or more")
    out = Path(out)
    check_writable(out / "summary.md", overwrite)
    start = time.time()
    held_out = f"case{s.cases:02d}"  # the last case; only it is rendered as a whole video too
    manifest = make_phantom_dataset(out / "phantom", PhantomConfig(
        cases=s.cases, seed=s.seed, seconds=s.seconds, label_fps=s.label_fps, height=s.frame_height,
        width=s.frame_width, video_formats=("mp4",), video_cases=(held_out,), inclusion_images=0),
        overwrite=True, progress=progress)
    rows = load_manifest(manifest, "icsi")
    cfg = config_from_dict(train_config(s, manifest, held_out))
    result = train(cfg, out / "train", overwrite=True, progress=show_training_progress)
    predictor = TorchPredictor.from_checkpoint(result.model_path)
    test = rows[rows["case"] == held_out].reset_index(drop=True)
    truths, preds = [], []
    for i, row in test.iterrows():
        image, truth = read_image(row["image_path"]), read_mask(row["mask_path"])
        pred = predictor.predict([image])[0]
        write_mask(out / "predictions" / Path(row["mask_path"]).name, pred, list(ICSI.colors), overwrite=True)
        truths.append(truth)
        preds.append(pred)
        if progress:
            progress(f"predict {held_out}", i + 1, len(test))
    metrics = _metrics(truths, preds)
    meta = [{"case": r["case"], "video": r["video"], "frame_index": int(r["frame_index"]), "time_s": r["time_s"],
             "labelset": "icsi"} for _, r in test.iterrows()]
    feats_true = features_table(zip(meta, truths))
    feats_pred = features_table(zip(meta, preds))
    per_frame, table3 = compare(feats_pred, feats_true)
    abs_table = case_table(per_frame, "abs")
    tip = tip_error_summary(per_frame)
    write_table(metrics, out / "metrics.csv")
    write_table(feats_true, out / "features_true.csv")
    write_table(feats_pred, out / "features_predicted.csv")
    write_table(per_frame, out / "feature_errors.csv")
    _write_overlays(out, test, truths, preds)
    video = _analyse_video(out, held_out, result.model_path, manifest, s, progress)
    seconds = time.time() - start
    iou = {r["class"]: float(r["iou"]) for _, r in metrics.iterrows() if r["class"] in ICSI.classes[1:]}
    miou = float(np.nanmean(list(iou.values())))
    acc = float(metrics.loc[metrics["class"] == "all", "pixel_accuracy"].iloc[0])
    write_json(out / "demo.json", {"settings": asdict(s), "held_out_case": held_out, "mean_iou": miou,
                                   "pixel_accuracy": acc, "iou": iou, "seconds": seconds, "tip_error_px": tip,
                                   "train_steps": result.steps, "model": str(result.model_path), "video": video})
    summary = _summary(s, held_out, len(rows) - len(test), len(test), metrics, miou, acc, table3, abs_table,
                       per_frame, result, seconds, tip, video)
    write_text(out / "summary.md", summary)
    return DemoResult(out, out / "summary.md", miou, acc, iou, seconds, video)


def _analyse_video(out: Path, case: str, model: Path, manifest: Path, s: DemoSettings,
                   progress: Progress | None) -> dict:
    """Every frame of the held-out case's video through `analyze` into out/analysis; returns frames, seconds and
    frames/s (model loading excluded) and which ONNX file ran.

    The trained model is exported to ONNX; with `s.int8` also as static INT8, calibrated on training stills and
    scored against float32 on the held-out case's stills (as `oocyteseg export --int8 --check-cases` does). The
    INT8 file is used only if it loses at most `MAX_IOU_DROP` mean IoU there; otherwise the float32 file runs and
    the reason is recorded.
    """
    from oocyteseg.inference import AnalyzeConfig, export_checkpoint_onnx
    from oocyteseg.inference.quantize import MAX_IOU_DROP, export_int8
    from oocyteseg.pipelines.analysis import run_analysis

    video = out / "phantom" / "icsi" / case / f"{case}.mp4"
    onnx_path = export_checkpoint_onnx(model, out / "train" / "model.onnx", overwrite=True)
    int8: dict = {"used": False}
    (out / "train" / "model-int8.onnx").unlink(missing_ok=True)  # never a stale file from an earlier demo
    if s.int8:
        try:
            int8_path, check = export_int8(onnx_path, out / "train" / "model-int8.onnx", manifest,
                                           check_cases=[case], calibration_images=s.calibration_images,
                                           overwrite=True, seed=s.seed)
            onnx_path = int8_path
            int8 = {"used": True, "float32_miou": check.float32, "int8_miou": check.int8, "drop": check.drop,
                    "max_drop": MAX_IOU_DROP, "stills": check.images}
        except OocytesegError as err:  # INT8 lost too much: analyse with float32 and say why
            int8 = {"used": False, "refused": err.message}

    def on_frames(_: str, done: int, total: int) -> None:
        if progress:
            progress(f"analyse {case} video", done, total)

    outcome = run_analysis([video], onnx_path, out / "analysis", AnalyzeConfig(), case=case, overwrite=True,
                           progress=on_frames)
    if outcome.failed:
        raise OocytesegError(f"the held-out video could not be analysed: {outcome.failed[0][1]}", video)
    r = outcome.done[0]
    return {"video": str(video), "folder": str(r.out_dir), "frames": r.frames, "seconds": round(r.seconds, 2),
            "fps": round(r.frames / r.seconds, 1), "model": str(onnx_path), "int8": int8,
            "qc_flagged": int(r.summary.get("qc", {}).get("frames_flagged", 0))}


def _metrics(truths: list[np.ndarray], preds: list[np.ndarray]) -> pd.DataFrame:
    cm = sum(np.asarray(confusion_matrix(p, t, ICSI.num_classes), dtype=np.int64) for p, t in zip(preds, truths))
    iou, dice = iou_from_confusion(cm), dice_from_confusion(cm)
    rows = [{"class": name, "iou": iou[c], "dice": dice[c], "pixels_true": int(cm[c].sum()),
             "pixels_predicted": int(cm[:, c].sum()), "pixel_accuracy": np.nan} for c, name in enumerate(ICSI.classes)]
    rows.append({"class": "all", "iou": np.nanmean(iou[1:]), "dice": np.nanmean(dice[1:]),
                 "pixels_true": int(cm.sum()), "pixels_predicted": int(cm.sum()), "pixel_accuracy": pixel_accuracy(cm)})
    return pd.DataFrame(rows)


def _write_overlays(out: Path, test: pd.DataFrame, truths: list[np.ndarray], preds: list[np.ndarray]) -> None:
    picks = sorted({0, len(test) // 2, len(test) - 1})
    for i in picks:
        image = read_image(test.loc[i, "image_path"])
        panel = np.concatenate([overlay_mask(image, truths[i], ICSI), overlay_mask(image, preds[i], ICSI)], axis=1)
        write_image(out / "overlays" / f"{Path(test.loc[i, 'image_path']).stem}_true_vs_pred.png", panel)


def _summary(s: DemoSettings, held_out: str, n_train: int, n_test: int, metrics: pd.DataFrame, miou: float,
             acc: float, table3: pd.DataFrame, abs_table: pd.DataFrame, per_frame: pd.DataFrame, result,
             seconds: float, tip: dict, video: dict) -> str:
    cls_rows = "\n".join(f"| {r['class']} | {r['iou']:.3f} | {r['dice']:.3f} |" for _, r in metrics.iterrows()
                         if r["class"] in ICSI.classes[1:])
    excluded = per_frame.attrs.get("excluded", {})
    crops = f" (trained on random {s.crop[0]}x{s.crop[1]} crops)" if s.crop else ""
    return f"""# oocyteseg demo (phantom data)

Held-out case **{held_out}** ({n_test} frames); trained on the other {s.cases - 1} cases ({n_train} frames)
with `{s.model}` at {s.height}x{s.width}{crops} for {result.steps} steps; predictions on whole frames at native
{s.frame_height}x{s.frame_width}. Total time {seconds:.0f} s.

## Segmentation of the held-out case

Pixel accuracy **{acc:.4f}**, mean IoU over oocyte / sERC / needle **{miou:.3f}** (from the confusion
matrix summed over the case's frames; a class absent from every frame of the case would be NaN and left
out of the mean).

| class | IoU | Dice |
|---|---|---|
{cls_rows}

## Shimotsu features: predicted vs true masks

Relative error |A - M| / |M| x 100 per frame, averaged over the case (form of Shimotsu Table 3).
Frames where M = 0 or a feature is undefined (no sERC, no needle) are excluded: {excluded}.

{table_markdown(table3)}

Absolute error (pixels for f3/f4; unitless for f1/f2), which stays meaningful when M is near 0:

{table_markdown(abs_table, decimals=3)}

Needle tip (predicted vs true mask, the point f3 and f4 are measured from): median error
**{tip["median"]:.2f} px**, mean {tip["mean"]:.2f} px, 90th percentile {tip["p90"]:.2f} px over {tip["n"]} frames
with a tip in both masks; {tip["one_sided"]} frames have a tip in only one of the two.

## Every frame of the held-out video (`oocyteseg analyze`)

{video["frames"]} frames of {held_out}'s {s.frame_height}x{s.frame_width} video analysed end to end (decode,
segmentation with the model exported to ONNX, features, injection read, temporal QC, masks, tables, overlay
video) in {video["seconds"]:.1f} s: **{video["fps"]:.1f} frames/s** on this machine, model loading excluded.
{_int8_line(video["int8"], held_out)}
Per-frame features, masks, `overlay.mp4` and `summary.md` in `{Path(video["folder"]).relative_to(Path(video["folder"]).parents[2])}/`.

Files: `metrics.csv`, `features_true.csv`, `features_predicted.csv`, `feature_errors.csv`,
`predictions/`, `overlays/`, `analysis/`, `train/` (config, learning curve, checkpoints, model.onnx and
model-int8.onnx when INT8 was kept), `phantom/`.
This is phantom data: it tests the software end to end, not clinical validity.
"""


def _int8_line(int8: dict, held_out: str) -> str:
    """One sentence on which ONNX file `analyze` ran and why."""
    if int8.get("used"):
        return (f"Model file: static INT8 (`model-int8.onnx`, calibrated on training stills); on {held_out}'s "
                f"{int8['stills']} annotated stills its mean IoU is {int8['int8_miou']:.4f} against "
                f"{int8['float32_miou']:.4f} for float32 (drop {int8['drop']:.4f}, at most {int8['max_drop']:g} "
                f"allowed).")
    if "refused" in int8:
        return f"Model file: float32 (`model.onnx`); the INT8 export was refused: {int8['refused']}"
    return "Model file: float32 (`model.onnx`)."
