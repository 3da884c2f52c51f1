"""Evaluate a model on manifest rows: confusion matrices per image, per case and overall.

Images are resized to the model's input size; the logits are resized back (bilinear) to each mask's
native size before the arg-max, so every metric is computed on the original annotation pixels.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from oocyteseg.classes import LabelSet, get_label_set
from oocyteseg.data.dataset import SegmentationDataset
from oocyteseg.evaluation.metrics import confusion_matrix, summarize

Progress = Callable[[str, int, int], None]


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


def _predict(model: nn.Module, images: torch.Tensor, size: tuple[int, int] | None, out_hw: tuple[int, int]) -> torch.Tensor:
    x = images
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    logits = model(x)
    if tuple(logits.shape[-2:]) != tuple(out_hw):
        logits = F.interpolate(logits, size=out_hw, mode="bilinear", align_corners=False)
    return logits.argmax(1)


def _same_shape_groups(samples: list[dict]) -> list[list[dict]]:
    groups: list[list[dict]] = []
    for s in samples:
        if groups and groups[-1][0]["image"].shape == s["image"].shape:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


@torch.no_grad()
def evaluate_model(model: nn.Module, rows: pd.DataFrame, size: Sequence[int] | None, device: str | torch.device = "cpu",
                   batch_size: int = 4, *, num_classes: int | None = None, class_names: Sequence[str] | None = None,
                   keep_predictions: bool = False, num_workers: int = 0, progress: Progress | None = None) -> EvalResult:
    """Predict every row (manifest rows with image_path / mask_path / case) and accumulate confusion matrices.

    Args:
        model: maps normalised (N, 3, H, W) images to (N, C, H, W) logits.
        rows: annotated manifest rows (see `oocyteseg.data.manifest.load_manifest`).
        size: (height, width) the model expects (its training size), or None for native size.
        device: where to run the model.
        batch_size: images per forward pass (images of different native sizes are never batched together).
        num_classes / class_names: taken from the label set of the rows when not given.
        keep_predictions: also return each predicted label map (native size, uint8).
    """
    if class_names is None:
        labelset: LabelSet = get_label_set(str(rows["labelset"].iloc[0])) if "labelset" in rows else None
        class_names = list(labelset.classes) if labelset else [str(i) for i in range(num_classes or 0)]
    num_classes = num_classes or len(class_names)
    class_names = list(class_names)
    size = tuple(size) if size is not None else None
    rows = rows.reset_index(drop=True)
    model = model.to(device).eval()
    ds = SegmentationDataset(rows, size=None, num_classes=num_classes)
    dl = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=num_workers, collate_fn=list)
    frame_cms = np.zeros((len(rows), num_classes, num_classes), np.int64)
    predictions: list[np.ndarray] | None = [None] * len(rows) if keep_predictions else None  # type: ignore[list-item]
    done = 0
    for samples in dl:
        for group in _same_shape_groups(samples):
            images = torch.stack([s["image"] for s in group]).to(device)
            masks = torch.stack([s["mask"] for s in group]).to(device)
            pred = _predict(model, images, size, tuple(masks.shape[-2:]))
            for s, p, m in zip(group, pred, masks):
                frame_cms[s["index"]] = confusion_matrix(p, m, num_classes).cpu().numpy()
                if predictions is not None:
                    predictions[s["index"]] = p.to(torch.uint8).cpu().numpy()
        done += len(samples)
        if progress:
            progress("evaluate", done, len(rows))
    cases = rows["case"].astype(str)
    case_cms = {c: frame_cms[(cases == c).to_numpy()].sum(0) for c in sorted(cases.unique())}
    frames = pd.DataFrame({"case": cases, "image": rows["image_path"]})
    per_frame = pd.DataFrame([summarize(cm, class_names) for cm in frame_cms])
    frames = pd.concat([frames, per_frame], axis=1) if len(per_frame) else frames
    return EvalResult(class_names, frames, frame_cms, case_cms, frame_cms.sum(0), predictions)


def evaluate_checkpoint(checkpoint: str | os.PathLike, manifest: str | os.PathLike | None = None, *,
                        rows: pd.DataFrame | None = None, cases: Sequence[str] | None = None, batch_size: int = 4,
                        device: str = "cpu", size: Sequence[int] | None = None,
                        progress: Progress | None = None) -> tuple[EvalResult, dict]:
    """Load a portable model (`model.pt`) and evaluate it on a manifest's annotated rows (or on `rows`).

    The label set and input size come from the checkpoint (what it was trained with) unless `size` is given.
    Returns the result and the checkpoint's `extra` dict.
    """
    from oocyteseg.errors import OocytesegError
    from oocyteseg.models import load_checkpoint
    from oocyteseg.training.data import load_rows

    model, model_config, extra = load_checkpoint(checkpoint, map_location=device)
    labelset = get_label_set(extra.get("labelset", "icsi"))
    if labelset.num_classes != model_config["num_classes"]:
        raise OocytesegError(f"checkpoint has {model_config['num_classes']} classes but label set {labelset.name!r} "
                             f"has {labelset.num_classes}", checkpoint, "use a checkpoint written by `oocyteseg train`")
    if rows is None:
        if manifest is None:
            raise ValueError("give a manifest or rows")
        rows = load_rows([manifest], labelset.name)
    if cases:
        missing = sorted(set(cases) - set(rows["case"]))
        if missing:
            raise OocytesegError(f"case(s) {missing} not in the data (cases: {sorted(set(rows['case']))})",
                                 manifest, "check --cases")
        rows = rows[rows["case"].isin(list(cases))]
    size = size if size is not None else extra.get("size")
    result = evaluate_model(model, rows, size, device, batch_size, num_classes=labelset.num_classes,
                            class_names=labelset.classes, progress=progress)
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
