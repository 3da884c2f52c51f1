"""Evaluate a model on manifest rows: confusion matrices per image, per case and overall.

Images go through the one preprocessing path (`oocyteseg.data.preprocess`: the model's input spec, then
logits resized back to each image's native size before the arg-max), exactly as `analyze` predicts them,
so every metric is computed on the original annotation pixels and equals what the deployed model does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from oocyteseg.classes import LabelSet, labels_from_extra
from oocyteseg.data.labels import dataset_labels, manifest_labels
from oocyteseg.data.preprocess import InputSpec, predict_labels, torch_runner
from oocyteseg.devices import resolve_device
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.metrics import confusion_matrix, summarize
from oocyteseg.io.images import read_image, read_mask
from oocyteseg.progress import ProgressFn as Progress



@dataclass
class EvalResult:
    """Confusion matrices of an evaluation (rows = truth, columns = prediction).

    Attributes:
        class_names: one name per class index.
        frames: one row per image (case, image_path, and that image's accuracy / IoU columns).
        frame_cms: (N, C, C) confusion matrix of each image, in `frames` order.
        case_cms: case -> summed confusion matrix of its images.
        overall_cm: summed confusion matrix of every image.
        predictions: per-image uint8 label maps at native size (only if asked for).
    """

    class_names: list[str]
    frames: pd.DataFrame
    frame_cms: np.ndarray
    case_cms: dict[str, np.ndarray]
    overall_cm: np.ndarray
    predictions: list[np.ndarray] | None = field(default=None, repr=False)

    def case_metrics(self) -> pd.DataFrame:
        """One row per case: accuracy, mean IoU, mean Dice, per-class IoU and Dice."""
        return pd.DataFrame([{"case": c, **summarize(cm, self.class_names)} for c, cm in self.case_cms.items()])

    def overall_metrics(self) -> dict[str, float]:
        """Metrics of the summed confusion matrix (every pixel of the data set counts once)."""
        return summarize(self.overall_cm, self.class_names)


def _read_pair(row, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    image, mask = read_image(row["image_path"]), read_mask(row["mask_path"])
    if image.shape[:2] != mask.shape:
        raise OocytesegError(f"image is {image.shape[1]}x{image.shape[0]} but mask is {mask.shape[1]}x{mask.shape[0]}",
                             row["mask_path"], "regenerate the mask at the image's size")
    if mask.max() >= num_classes:
        raise OocytesegError(f"mask has class {int(mask.max())} but the label set has {num_classes} classes",
                             row["mask_path"], "check the label set / classes file")
    return image, mask


@torch.no_grad()
def evaluate_model(model: nn.Module, rows: pd.DataFrame, spec: InputSpec | Sequence[int] | None,
                   device: str | torch.device = "cpu", batch_size: int = 4, *, num_classes: int | None = None,
                   class_names: Sequence[str] | None = None, keep_predictions: bool = False,
                   progress: Progress | None = None) -> EvalResult:
    """Predict every row (manifest rows with image_path / mask_path / case) and accumulate confusion matrices.

    Args:
        model: maps normalised (N, 3, H, W) images to (N, C, H, W) logits.
        rows: annotated manifest rows (see `oocyteseg.data.manifest.load_manifest`).
        spec: the model's input spec (`InputSpec.from_extra(checkpoint extra)`); a (height, width) or None is
            taken as that size (None: native) with ImageNet statistics.
        device: where to run the model.
        batch_size: images per forward pass (images of different native sizes are never batched together).
        num_classes / class_names: taken from the label set of the rows when not given.
        keep_predictions: also return each predicted label map (native size, uint8).
    """
    if class_names is None:
        labelset: LabelSet | None = (manifest_labels(rows, str(rows["labelset"].iloc[0]))
                                     if "labelset" in rows and len(rows) else None)
        class_names = list(labelset.classes) if labelset else [str(i) for i in range(num_classes or 0)]
    num_classes = num_classes or len(class_names)
    class_names = list(class_names)
    if not isinstance(spec, InputSpec):
        spec = InputSpec(tuple(spec) if spec is not None else None)
    rows = rows.reset_index(drop=True)
    device = resolve_device(device)
    model = model.to(device).eval()
    run = torch_runner(model, device)
    frame_cms = np.zeros((len(rows), num_classes, num_classes), np.int64)
    predictions: list[np.ndarray] | None = [None] * len(rows) if keep_predictions else None  # type: ignore[list-item]
    for start in range(0, len(rows), batch_size):
        chunk = [_read_pair(rows.iloc[i], num_classes) for i in range(start, min(start + batch_size, len(rows)))]
        preds = predict_labels(run, [im for im, _ in chunk], spec, batch_size)
        for k, (pred, (_, mask)) in enumerate(zip(preds, chunk)):
            frame_cms[start + k] = confusion_matrix(torch.from_numpy(pred), torch.from_numpy(mask),
                                                    num_classes).cpu().numpy()
            if predictions is not None:
                predictions[start + k] = pred
        if progress:
            progress("evaluate", start + len(chunk), len(rows))
    cases = rows["case"].astype(str)
    case_cms = {c: frame_cms[(cases == c).to_numpy()].sum(0) for c in sorted(cases.unique())}
    frames = pd.DataFrame({"case": cases, "image": rows["image_path"]})
    per_frame = pd.DataFrame([summarize(cm, class_names) for cm in frame_cms])
    frames = pd.concat([frames, per_frame], axis=1) if len(per_frame) else frames
    return EvalResult(class_names, frames, frame_cms, case_cms, frame_cms.sum(0), predictions)


def evaluate_checkpoint(checkpoint: str | os.PathLike, manifest: str | os.PathLike | None = None, *,
                        rows: pd.DataFrame | None = None, cases: Sequence[str] | None = None, batch_size: int = 4,
                        device: str = "auto", size: Sequence[int] | None = None, keep_predictions: bool = False,
                        progress: Progress | None = None, tta: str | None = None) -> tuple[EvalResult, dict]:
    """Load a portable model (`model.pt`) and evaluate it on a manifest's annotated rows (or on `rows`).

    The label set and input size come from the checkpoint (what it was trained with) unless `size` is given;
    `tta`: test-time augmentation (`data.preprocess.TTA_MODES`, default none), as `analyze --tta` runs it.
    Returns the result and the checkpoint's `extra` dict.
    """
    from oocyteseg.models import load_checkpoint
    from oocyteseg.training.data import load_rows

    device = resolve_device(device)
    model, model_config, extra = load_checkpoint(checkpoint, map_location=device)
    labelset = labels_from_extra(extra)
    if labelset.num_classes != model_config["num_classes"]:
        raise OocytesegError(f"checkpoint has {model_config['num_classes']} classes but label set {labelset.name!r} "
                             f"has {labelset.num_classes}", checkpoint, "use a checkpoint written by `oocyteseg train`")
    if rows is None:
        if manifest is None:
            raise ValueError("give a manifest or rows")
        dataset_labels([manifest], labelset)  # the masks' classes beside the manifest must agree with the model's
        rows = load_rows([manifest], labelset.name)
    if cases:
        missing = sorted(set(cases) - set(rows["case"]))
        if missing:
            raise OocytesegError(f"case(s) {missing} not in the data (cases: {sorted(set(rows['case']))})",
                                 manifest, "check --cases")
        rows = rows[rows["case"].isin(list(cases))]
    result = evaluate_model(model, rows, InputSpec.from_extra(extra, size).with_tta(tta), device, batch_size,
                            num_classes=labelset.num_classes, class_names=labelset.classes,
                            keep_predictions=keep_predictions, progress=progress)
    return result, extra


def write_evaluation(result: EvalResult, out_dir: str | os.PathLike, overwrite: bool = False,
                     title: str = "") -> dict[str, Path]:
    """Per-case table (CSV + Markdown, Shimotsu layout), per-image metrics, confusion matrices, overall JSON."""
    from oocyteseg.evaluation.tables import per_case_iou_table, table_to_markdown
    from oocyteseg.io.atomic import check_writable, write_json, write_table, write_text

    out_dir = Path(out_dir)
    paths = {"table_csv": out_dir / "per_case_iou.csv", "table_md": out_dir / "per_case_iou.md",
             "frames": out_dir / "per_image.csv", "cases": out_dir / "per_case_metrics.csv",
             "overall": out_dir / "overall.json"}
    for p in paths.values():
        check_writable(p, overwrite)
    table = per_case_iou_table(result.case_cms, result.class_names)
    write_table(table, paths["table_csv"])
    write_text(paths["table_md"], table_to_markdown(table, title=title))
    write_table(result.frames, paths["frames"])
    write_table(result.case_metrics(), paths["cases"])
    write_json(paths["overall"], {"metrics": result.overall_metrics(), "class_names": result.class_names,
                                  "confusion_matrix": result.overall_cm.tolist(),
                                  "case_confusion_matrices": {c: cm.tolist() for c, cm in result.case_cms.items()},
                                  "images": len(result.frames)})
    return paths
