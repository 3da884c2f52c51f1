"""Ground truth for an analysed video: exact masks (<stem>_masks.npz, as the phantom writes them),
per-case IoU from a confusion matrix (Shimotsu Table 2 form) and features of the true masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.metrics import confusion_matrix, iou_from_confusion
from oocyteseg.io.video import NearestSampler
from oocyteseg.inference.mask_store import iter_mask_chunks
from oocyteseg.morphometry.measure import mask_features

TRUTH_SUFFIX = "_masks.npz"


def find_truth(video: Path, case: str, truth: Path | None) -> Path | None:
    """The ground-truth npz of a video: `truth` itself (a file), `<stem>_masks.npz` or `<case>_masks.npz`
    in the `truth` folder (searched recursively), else `<stem>_masks.npz` next to the video."""
    if truth is not None and truth.is_file():
        return truth
    names = [f"{video.stem}{TRUTH_SUFFIX}", f"{case}{TRUTH_SUFFIX}"]
    if truth is not None:
        if not truth.is_dir():
            raise OocytesegError("ground truth not found", truth, "pass a <case>_masks.npz file or a folder of them")
        for name in names:
            hits = sorted(truth.rglob(name))
            if hits:
                return hits[0]
        return None
    candidate = video.parent / names[0]
    return candidate if candidate.is_file() else None


def load_truth(path: Path) -> np.ndarray:
    """The (frames, H, W) uint8 masks of a ground-truth npz (key `masks`)."""
    try:
        with np.load(path) as z:
            return z["masks"]
    except (OSError, ValueError, KeyError) as exc:
        raise OocytesegError(f"unreadable ground-truth masks ({type(exc).__name__})", path,
                             "pass an .npz with an array 'masks' of shape (frames, H, W)") from exc


def truth_classes(path: Path) -> list[str] | None:
    """The class names a ground-truth npz records (key `classes`), or None when it records none."""
    try:
        with np.load(path) as z:
            return [str(c) for c in z["classes"]] if "classes" in z.files else None
    except (OSError, ValueError) as exc:
        raise OocytesegError(f"unreadable ground-truth masks ({type(exc).__name__})", path,
                             "pass an .npz with an array 'masks' of shape (frames, H, W)") from exc


def score_case(mask_dir: Path, truth_path: Path, labels: LabelSet, case: str,
               feature_fps: float = 1.0, video: str = "") -> tuple[np.ndarray, pd.DataFrame, int]:
    """Confusion matrix over all analysed frames, features of the true masks sampled at `feature_fps`
    (the seeds annotated one frame per second), and the number of frames scored.

    `case` and `video` go into the features rows, so they join the analysis table's rows of the same
    video (one case may hold several videos).
    """
    truth = load_truth(truth_path)
    k = labels.num_classes
    cm = np.zeros((k, k), np.int64)
    rows, scored = [], 0
    sampler = NearestSampler(feature_fps)
    for index, times, masks in iter_mask_chunks(mask_dir):
        for i, t, pred in zip(index, times, masks):
            if i >= len(truth):
                continue
            gt = truth[i]
            if gt.shape != pred.shape:
                raise OocytesegError(f"ground truth is {gt.shape[1]}x{gt.shape[0]} but the video is "
                                     f"{pred.shape[1]}x{pred.shape[0]}", truth_path, "pass the masks of this video")
            cm += confusion_matrix(pred, gt, k).numpy()
            scored += 1
            for ki, kt, kgt in sampler.push((i, t, gt), float(t)):
                rows.append({"case": case, "video": video, "frame_index": int(ki), "time_s": float(kt),
                             **mask_features(kgt, labels)})
    return cm, pd.DataFrame(rows), scored


def iou_table(confusions: dict[str, np.ndarray], labels: LabelSet) -> pd.DataFrame:
    """Rows = cases then Average; columns = foreground classes then Average (Shimotsu Table 2)."""
    names = list(labels.classes[1:])
    table = pd.DataFrame({case: list(iou_from_confusion(cm)[1:]) for case, cm in confusions.items()},
                         index=names).T
    table["Average"] = table[names].mean(axis=1, skipna=True)
    table.loc["Average"] = table.mean(axis=0, skipna=True)
    return table
