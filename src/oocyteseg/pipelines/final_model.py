"""The model to deploy after a cross-validation: the same recipe trained on every case, exported to ONNX,
with a model card (classes, input size and resize policy, training data by case, the CV table, commit, date).

Layout: CV_DIR/final/ is a normal run folder (`model.pt`, `config.yaml`, learning curve, checkpoints) plus
`model.onnx`, `model_card.md` and `model_card.json`. The final run trains on all cases with no validation,
for the configured number of steps, or, when the folds stopped early, for the median of their steps.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from oocyteseg import __version__
from oocyteseg.errors import OocytesegError
from oocyteseg.inference.onnx_predictor import export_checkpoint_onnx
from oocyteseg.io.atomic import write_json, write_text
from oocyteseg.training.config import TrainConfig, with_updates
from oocyteseg.training.data import input_spec, load_rows
from oocyteseg.training.engine import train

FINAL_DIR = "final"


@dataclass
class FinalModel:
    run_dir: Path
    model: Path
    onnx: Path
    card: Path
    steps: int


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).parent,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+local changes" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def final_steps(config: TrainConfig, cv_dir: Path) -> int:
    """The configured steps; with early stopping, the median number of steps the folds trained."""
    if not config.trainer.early_stopping_patience:
        return config.optim.max_steps
    steps = [json.loads(p.read_text())["steps"] for p in sorted(cv_dir.glob("fold-*/done.json"))]
    return int(statistics.median(steps)) if steps else config.optim.max_steps


def train_final_model(config: TrainConfig, cv_dir: str | Path, *, resume: bool = False, overwrite: bool = False,
                      progress: bool = True) -> FinalModel:
    """Train the deployable model on every case of `config.data.manifests` (after `cross_validate` in cv_dir)."""
    cv_dir = Path(cv_dir)
    table = cv_dir / "per_case_iou.md"
    if not table.is_file():
        raise OocytesegError("no cross-validation table in the folder", cv_dir, "run `oocyteseg cv` into it first")
    rows = load_rows(config.data.manifests, config.data.label_set().name)
    steps = final_steps(config, cv_dir)
    final_cfg = with_updates(config, {"data.train_cases": sorted(set(rows["case"])), "data.val_cases": [],
                                      "data.val_holdout": 0, "optim.max_steps": steps,
                                      "trainer.early_stopping_patience": None,
                                      "data.split_file": None, "data.fold": None})
    run_dir = cv_dir / FINAL_DIR
    started = (run_dir / "checkpoints" / "last.ckpt").is_file()
    result = train(final_cfg, run_dir, overwrite=overwrite or (not started and run_dir.exists()),
                   resume=resume and started and not overwrite, progress=progress)
    if result.interrupted:
        raise OocytesegError("the final training was interrupted", run_dir, "re-run with --final --resume")
    onnx = export_checkpoint_onnx(result.model_path, run_dir / "model.onnx", overwrite=True)
    card = write_model_card(final_cfg, rows, table, run_dir, result.steps, result.seconds)
    return FinalModel(run_dir, result.model_path, onnx, card, result.steps)


POLICY_TEXT = {
    "letterbox": "letterbox: scaled to fit input_size keeping the aspect ratio (OpenCV area to shrink, bilinear to "
                 "enlarge), edges replicated into the border; logits cropped to the image and resized bilinearly "
                 "back to the frame",
    "stretch": "stretch: resized to input_size (OpenCV area to shrink, bilinear to enlarge); logits resized "
               "bilinearly back to the frame"}


def write_model_card(config: TrainConfig, rows: pd.DataFrame, cv_table: Path, run_dir: Path, steps: int,
                     seconds: float) -> Path:
    """model_card.md and model_card.json next to the final model."""
    labels = config.data.label_set()
    spec = input_spec(config)
    by_case = rows.groupby("case").size().to_dict()
    info = {"model": config.model.name, "classes": list(labels.classes), "labelset": labels.name,
            "input_size": list(spec.size), "resize_policy": POLICY_TEXT[spec.resize_policy],
            "label_set": labels.to_dict(), "mean": list(spec.mean), "std": list(spec.std),
            "training_images_by_case": {str(k): int(v) for k, v in by_case.items()}, "steps": steps,
            "training_seconds": round(seconds), "oocyteseg": __version__, "commit": _commit(),
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "files": {"checkpoint": "model.pt", "onnx": "model.onnx", "config": "config.yaml"}}
    write_json(run_dir / "model_card.json", info, overwrite=True)
    cases = ", ".join(f"{c}: {n}" for c, n in info["training_images_by_case"].items())
    text = f"""# Model card: {config.model.name} ({labels.name})

- Classes: {", ".join(f"{i} {c}" for i, c in enumerate(labels.classes))}; roles (what the features use):
  {", ".join(f"{r} = {labels.classes[i]}" for r, i in labels.roles.items()) or "none (area and count per class)"}
- Input: {spec.size[0]}x{spec.size[1]} (height x width); {info["resize_policy"]}; normalisation mean
  {list(spec.mean)}, std {list(spec.std)}.
- Trained on every case ({len(by_case)} cases, {len(rows)} images: {cases}) for {steps} steps
  ({seconds / 60:.1f} min), with the recipe of the cross-validation below (`config.yaml`).
- oocyteseg {__version__}, commit {info["commit"]}, {info["date"]}.
- Files: `model.pt` (portable checkpoint), `model.onnx` (ONNX Runtime; `oocyteseg analyze --model model.onnx`).

## Cross-validation of the same recipe (each case predicted by a model that never saw it)

{cv_table.read_text(encoding="utf-8")}
The final model itself has no held-out score: it was trained on every case. The table above is the
estimate of how it does on a new case like these.
"""
    return write_text(run_dir / "model_card.md", text, overwrite=True)
