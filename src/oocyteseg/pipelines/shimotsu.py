"""The Shimotsu et al. study in one call: ICSI videos -> 1 fps stills -> LabelMe masks -> leave-one-case-out
training of each model -> per-case per-class IoU (their Table 2) -> the four features on automatic and
manual masks -> relative errors (their Table 3) -> a Markdown report.

Without videos, a phantom study is rendered first: 11 cases whose image counts are proportional to the
paper's Table 1 (scaled by the data fraction), WMV videos, and one LabelMe file per 1 fps still drawn
from the phantom's exact masks (the "manual annotation"). Every stage writes its outputs once and is
skipped when they exist, so an interrupted run continues with `resume`.

Layout of OUT: `source/` (phantom only: videos/, annotations/), `frames/` (issue-3 frames), `dataset/`
(issue-3 labelme: manifest.csv, images, masks), `<model>/cv/` (splits.json, fold-XX/, per_case_iou.*),
`<model>/cv/fold-XX/test/predictions/`, `<model>/features/`, `<model>/table2.md`, `<model>/table3.md`, `report.md`,
`study.json`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.crossval import cross_validate
from oocyteseg.evaluation.tables import table_to_markdown
from oocyteseg.io.atomic import check_writable, write_json, write_text
from oocyteseg.io.config_file import read_yaml
from oocyteseg.io.images import read_mask
from oocyteseg.io.wall_clock import RunClock
from oocyteseg.morphometry.compare import compare, table_markdown, tip_error_summary
from oocyteseg.morphometry.compare_report import write_comparison
from oocyteseg.morphometry.table import features_table
from oocyteseg.pipelines.shimotsu_data import Progress, prepare_dataset
from oocyteseg.pipelines.shimotsu_report import study_report, table2_average
from oocyteseg.training.config import TrainConfig, load_config

# Shimotsu et al. Table 1: annotated stills per case (1 per second of video).
TABLE1_IMAGES: tuple[int, ...] = (49, 50, 65, 45, 43, 49, 89, 38, 48, 50, 53)
PAPER_STEPS = 25_000  # their training length; --budget 1 trains every model this long
PRESETS = {"deeplabv3_resnet50": "shimotsu-deeplab.yaml"}  # other models start from fast-cpu.yaml
FAST_PRESET = "fast-cpu.yaml"

GPU_MODELS = ("deeplabv3_resnet50", "unet_effnet_lite0")  # the paper's model and the fast CPU model
CPU_MODELS = ("unet_effnet_lite0",)


def default_models(cuda: bool) -> tuple[tuple[str, ...], str | None]:
    """The study's models when none are named, and a note to print when DeepLab is left out.

    DeepLab-ResNet-50 trains at about 7 s per step on a 2-core CPU (docs/performance.md), so the default
    phantom study would take over 5 hours there; on a CPU it must be asked for explicitly.
    """
    if cuda:
        return GPU_MODELS, None
    return CPU_MODELS, ("no GPU: the study trains unet_effnet_lite0 only (DeepLab-ResNet-50 takes about 7 s per training "
                        "step on a CPU); add it with --models deeplabv3_resnet50,unet_effnet_lite0")


@dataclass
class ShimotsuSettings:
    """What the study runs. `budget` scales the training steps (25,000 x budget) and the phantom's size."""

    models: tuple[str, ...] = GPU_MODELS
    budget: float = 0.01
    cases: int = 11
    data_fraction: float | None = None  # phantom images per case = Table 1 x this; default min(1, 10 x budget)
    min_images: int = 3
    fps: float = 1.0  # stills per second of video, as in the paper
    seed: int = 0
    config_dir: Path = Path("configs")
    cpu_threads: int | None = None
    video_fps: float = 24.0  # phantom video frame rate
    frame_size: tuple[int, int] = (480, 640)  # phantom frames (height, width), as the paper's videos
    overrides: dict[str, object] = field(default_factory=dict)  # dotted config keys applied to every model
    tip_steps: int = 0  # > 0: also train a native-resolution tip model per fold (`tip_variant`) for this many steps
    tta: str = "none"  # "flip": also report each model with flip test-time augmentation (`tta_variant`)

    def steps(self) -> int:
        return max(1, int(round(PAPER_STEPS * self.budget)))

    def fraction(self) -> float:
        return self.data_fraction if self.data_fraction is not None else min(1.0, 10.0 * self.budget)

    def images_per_case(self) -> list[int]:
        """Phantom stills per case: Table 1 (repeated if more than 11 cases) x the data fraction."""
        if self.cases < 2:
            raise OocytesegError("leave-one-case-out needs at least 2 cases", fix="pass --cases 2 or more")
        table = [TABLE1_IMAGES[i % len(TABLE1_IMAGES)] for i in range(self.cases)]
        return [max(self.min_images, int(round(n * self.fraction()))) for n in table]


@dataclass
class ModelOutcome:
    """Headline numbers of one model's cross-validation."""

    model: str
    steps: int
    table2: pd.DataFrame
    table3: pd.DataFrame
    overall: dict[str, float]
    out_dir: Path
    tip_error: dict[str, float] = field(default_factory=dict)  # needle tip, automatic vs manual (px)


@dataclass
class ShimotsuResult:
    out_dir: Path
    report: Path
    manifest: Path
    outcomes: list[ModelOutcome]
    seconds: float


def model_config(model: str, manifest: Path, s: ShimotsuSettings, *, steps: int | None = None,
                 extra: dict[str, object] | None = None) -> TrainConfig:
    """The preset of `model` (configs/shimotsu-deeplab.yaml or configs/fast-cpu.yaml) with this study's data,
    steps (default `s.steps()`) and bookkeeping intervals, then `extra` dotted overrides."""
    preset = Path(model) if model.endswith((".yaml", ".yml")) else s.config_dir / PRESETS.get(model, FAST_PRESET)
    steps = steps or s.steps()
    every = max(1, steps // 4)
    overrides = {"data.manifests": [str(manifest)], "optim.max_steps": steps, "seed": s.seed, "num_workers": 0,
                 "trainer.val_every_n_steps": every, "trainer.checkpoint_every_n_steps": every,
                 "trainer.log_every_n_steps": max(1, min(25, steps // 10)), "trainer.accelerator": "cpu",
                 "trainer.devices": 1, **({"trainer.cpu_threads": s.cpu_threads} if s.cpu_threads else {}),
                 **_model_overrides(model, preset), **s.overrides, **(extra or {})}
    return load_config(preset, [f"{k}={json.dumps(v)}" for k, v in overrides.items()])


def _model_overrides(model: str, preset: Path) -> dict[str, object]:
    """Swap the preset's model for `model`; the preset's model options only apply to its own model."""
    if model.endswith((".yaml", ".yml")):
        return {}
    preset_model = read_yaml(preset).get("model", {}).get("name")
    return {"model.name": model} if model == preset_model else {"model.name": model, "model.kwargs": {}}


def model_dir_name(model: str) -> str:
    return Path(model).stem if model.endswith((".yaml", ".yml")) else model


def fold_predictions(cv_dir: Path, rows: pd.DataFrame) -> list[np.ndarray]:
    """Each test still's prediction by the fold that held its case out: the very label maps Table 2 scored
    (written by the cross-validation's test evaluation), so Table 3 measures what Table 2 measured."""
    from oocyteseg.evaluation.crossval import read_predictions

    saved = read_predictions(cv_dir)
    missing = [p for p in rows["image_path"] if str(p) not in saved]
    if missing:
        raise OocytesegError(f"{len(missing)} test stills have no saved prediction (first: {missing[0]})", cv_dir,
                             "re-run the study with --resume after deleting the folds' test/ folders")
    return [read_mask(saved[str(p)]) for p in rows["image_path"]]


def run_model(model: str, manifest: Path, out: Path, s: ShimotsuSettings, *, resume: bool, overwrite: bool,
              progress: Progress | None = None, show_training_progress: bool = True) -> ModelOutcome:
    """Leave-one-case-out CV of one model, its Table 2, predictions, features and Table 3."""
    config = model_config(model, manifest, s)
    cv = cross_validate(config, "leave-one-case-out", out / "cv", resume=resume, overwrite=overwrite,
                        progress=show_training_progress)
    rows = test_rows(manifest)
    preds = fold_predictions(out / "cv", rows)
    return measure(model_dir_name(model), rows, preds, out, config.optim.max_steps, cv.table, cv.overall)


def test_rows(manifest: Path) -> pd.DataFrame:
    """The manifest's annotated stills (every one is tested once, by the fold that holds its case out)."""
    rows = load_manifest(manifest, "icsi")
    return rows[rows["mask_path"] != ""].reset_index(drop=True)  # load_manifest writes "" for no mask


def measure(name: str, rows: pd.DataFrame, preds: list[np.ndarray], out: Path, steps: int, table2: pd.DataFrame,
            overall: dict[str, float]) -> ModelOutcome:
    """Features of `preds` and of the manual masks, Table 3 and the tip error, written under `out`."""
    meta = [{"case": r.case, "video": r.video, "frame_index": int(r.frame_index), "time_s": r.time_s,
             "labelset": "icsi"} for r in rows.itertuples(index=False)]
    manual = features_table(zip(meta, (read_mask(p) for p in rows["mask_path"])))
    auto = features_table(zip(meta, preds))
    per_frame, table3 = compare(auto, manual)
    write_comparison(per_frame, table3, out / "features", overwrite=True,
                     title=f"Shimotsu Table 3 form: {name} vs manual masks")
    write_text(out / "table2.md", table_to_markdown(table2, title=f"Table 2 form: IoU per case ({name})"))
    write_text(out / "table3.md", table_markdown(table3))
    return ModelOutcome(name, steps, table2, table3, overall, out, tip_error_summary(per_frame))


def tip_training(s: ShimotsuSettings) -> dict[str, object]:
    """The tip model's data: 256x320 crops (at most the frame) of frames kept at their native size
    (`s.frame_size`, the paper's 480x640 by default), half of them centred on a foreground class."""
    h, w = s.frame_size
    return {"data.size": [h, w], "data.crop": [min(256, h), min(320, w)], "data.crop_focus": 0.5}


def tip_variant(model: str, manifest: Path, base: ModelOutcome, s: ShimotsuSettings, *, resume: bool,
                show_training_progress: bool = True) -> ModelOutcome:
    """`model` with the second look at the needle tip (`inference.tip_refine`), as `analyze --tip-model` runs it.

    Each fold also trains a tip model on native-resolution 256x320 crops of its own training cases (never the
    held-out case) for `s.tip_steps` steps; each test still's saved prediction (the one Table 2 scored) is then
    refined with it, and Table 2 and Table 3 are measured again on the refined masks, under `<model>+tip/`.
    """
    from oocyteseg.classes import get_label_set
    from oocyteseg.data.splits import load_splits
    from oocyteseg.evaluation.crossval import TEST_DIR, write_predictions
    from oocyteseg.evaluation.metrics import confusion_matrix, summarize
    from oocyteseg.evaluation.tables import per_case_iou_table
    from oocyteseg.inference.loading import load_predictor
    from oocyteseg.inference.tip_refine import CROP, refine_tips
    from oocyteseg.io.atomic import write_table
    from oocyteseg.io.images import read_image
    from oocyteseg.training.cv import fold_model, train_folds

    name = f"{base.model}+tip"
    out = base.out_dir.parent / name
    labels = get_label_set("icsi")
    config = model_config(model, manifest, s, steps=s.tip_steps,
                          extra={**tip_training(s), "trainer.val_every_n_steps": s.tip_steps})
    rows = test_rows(manifest)
    base_preds = dict(zip(rows["image_path"].astype(str), fold_predictions(base.out_dir / "cv", rows)))
    base_splits = load_splits(base.out_dir / "cv" / "splits.json")
    n = labels.num_classes
    case_cms: dict[str, np.ndarray] = {}

    def on_fold(fold, path: Path) -> None:
        if set(fold.test) != set(base_splits.folds[fold.index].test):
            raise OocytesegError(f"tip fold {fold.index} tests {sorted(fold.test)}, the model's fold "
                                 f"{sorted(base_splits.folds[fold.index].test)}", path,
                                 "delete the study's +tip folder and run again with --resume")
        fold_rows = rows[rows["case"].isin(list(fold.test))].reset_index(drop=True)
        saved = path / TEST_DIR / "confusion.json"
        if not saved.is_file():
            crop_predictor, _ = load_predictor(fold_model(config, path), "torch", CROP, s.cpu_threads)
            images = [read_image(p) for p in fold_rows["image_path"]]
            small = [p for p, im in zip(fold_rows["image_path"], images)
                     if im.shape[0] < CROP[0] or im.shape[1] < CROP[1]]
            if small:
                raise OocytesegError(f"{len(small)} stills are smaller than the {CROP[0]}x{CROP[1]} tip window, so "
                                     "their tips cannot be refined", small[0], "drop --tip-steps for these frames")
            refined = refine_tips(images, [base_preds[str(p)].copy() for p in fold_rows["image_path"]],
                                  crop_predictor, labels, CROP)
            write_predictions(fold_rows, refined, path / TEST_DIR, labels)
            cms = {}
            for row, pred in zip(fold_rows.itertuples(index=False), refined):
                cm = confusion_matrix(pred, read_mask(row.mask_path), n).numpy()
                cms[str(row.case)] = cms.get(str(row.case), 0) + cm
            write_json(saved, {c: cm.tolist() for c, cm in cms.items()}, overwrite=True)
        case_cms.update({c: np.asarray(cm, np.int64) for c, cm in json.loads(saved.read_text()).items()})

    splits = train_folds(config, "leave-one-case-out", out / "cv", resume=resume, progress=show_training_progress,
                         on_fold=on_fold)
    ordered = {c: case_cms[c] for c in splits.cases if c in case_cms}
    table2 = per_case_iou_table(ordered, list(labels.classes))
    write_table(table2, out / "cv" / "per_case_iou.csv")
    overall = summarize(np.sum(list(ordered.values()), axis=0), list(labels.classes))
    preds = fold_predictions(out / "cv", rows)
    return measure(name, rows, preds, out, base.steps, table2, overall)


def tta_variant(model: str, manifest: Path, base: ModelOutcome, s: ShimotsuSettings) -> ModelOutcome:
    """`model` predicted with test-time augmentation `s.tta` (`data.preprocess`, as `evaluate --tta` and
    `analyze --tta` run it), under `<model>+<tta>/`.

    No training: each fold's own model (the one Table 2 tested) predicts its held-out stills again with the
    augmentation; Table 2 and Table 3 are measured on those predictions, beside the plain ones. Each fold's
    evaluation is written once (fold-XX/test/) and skipped on a re-run.
    """
    from oocyteseg.data.splits import load_splits
    from oocyteseg.evaluation.crossval import TEST_DIR, write_predictions
    from oocyteseg.evaluation.evaluate import evaluate_checkpoint, write_evaluation
    from oocyteseg.evaluation.metrics import summarize
    from oocyteseg.evaluation.tables import per_case_iou_table
    from oocyteseg.io.atomic import write_table
    from oocyteseg.training.cv import fold_dir, fold_model
    from oocyteseg.training.data import load_rows

    name = f"{base.model}+{s.tta}"
    out = base.out_dir.parent / name
    config = model_config(model, manifest, s)
    labels = config.data.label_set()
    splits = load_splits(base.out_dir / "cv" / "splits.json")
    rows = load_rows(config.data.manifests, labels.name)
    case_cms: dict[str, np.ndarray] = {}
    for fold in splits.folds:
        test = fold_dir(out / "cv", fold.index) / TEST_DIR
        if not (test / "overall.json").is_file():
            fold_rows = rows[rows["case"].isin(list(fold.test))].reset_index(drop=True)
            result, _ = evaluate_checkpoint(fold_model(config, fold_dir(base.out_dir / "cv", fold.index)),
                                            rows=fold_rows, batch_size=config.optim.batch_size, device="cpu",
                                            keep_predictions=True, tta=s.tta)
            write_predictions(fold_rows, result.predictions or [], test, labels)
            write_evaluation(result, test, overwrite=True, title=f"fold {fold.index} ({name})")
        saved = json.loads((test / "overall.json").read_text())["case_confusion_matrices"]
        case_cms.update({c: np.asarray(cm, np.int64) for c, cm in saved.items()})
    ordered = {c: case_cms[c] for c in splits.cases if c in case_cms}
    table2 = per_case_iou_table(ordered, list(labels.classes))
    write_table(table2, out / "cv" / "per_case_iou.csv")
    overall = summarize(np.sum(list(ordered.values()), axis=0), list(labels.classes))
    preds = fold_predictions(out / "cv", test_rows(manifest))
    return measure(name, test_rows(manifest), preds, out, base.steps, table2, overall)


def run_shimotsu(out: str | os.PathLike, settings: ShimotsuSettings | None = None, *,
                 videos: str | os.PathLike | None = None, annotations: str | os.PathLike | None = None,
                 resume: bool = False, overwrite: bool = False, progress: Progress | None = None,
                 show_training_progress: bool = True) -> ShimotsuResult:
    """Run (or, with `resume`, continue) the whole study into `out`; returns the tables and the report path."""
    s = settings or ShimotsuSettings()
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (resume or overwrite):
        check_writable(out / "study.json", overwrite)
        raise OocytesegError("the study folder is not empty", out, "pass --resume to continue it or --overwrite")
    if overwrite and not resume and out.exists():
        import shutil

        shutil.rmtree(out)
    with RunClock(out, fallback=out / "study.json", resume=resume) as clock:  # killed runs count too
        manifest = prepare_dataset(out, s, Path(videos) if videos else None,
                                   Path(annotations) if annotations else None, progress)
        outcomes = []
        for m in s.models:
            outcomes.append(run_model(m, manifest, out / model_dir_name(m), s, resume=resume, overwrite=False,
                                      progress=progress, show_training_progress=show_training_progress))
            base = outcomes[-1]
            if s.tip_steps > 0:
                outcomes.append(tip_variant(m, manifest, base, s, resume=resume,
                                            show_training_progress=show_training_progress))
            if s.tta != "none":
                outcomes.append(tta_variant(m, manifest, base, s))
        seconds, total, runs = clock.seconds, clock.total, clock.runs
    report = write_text(out / "report.md", study_report(s, manifest, outcomes, videos, total, runs),
                        overwrite=True)
    write_json(out / "study.json", {"settings": {**asdict(s), "config_dir": str(s.config_dir)},
                                    "videos": str(videos) if videos else None, "steps": s.steps(),
                                    "seconds": round(seconds, 1), "seconds_total": round(total, 1),
                                    "runs": runs,
                                    "models": {o.model: {"overall": o.overall, "mean_iou_table2": table2_average(o.table2),
                                                         "tip_error_px": o.tip_error}
                                               for o in outcomes}}, overwrite=True)
    return ShimotsuResult(out, report, manifest, outcomes, seconds)


def used_training_cases(cv_dir: str | os.PathLike) -> dict[int, tuple[list[str], list[str]]]:
    """fold -> (training cases, test cases) as recorded in each fold's saved config (for audits and tests)."""
    out = {}
    for d in sorted(Path(cv_dir).glob("fold-*")):
        cfg = read_yaml(d / "config.yaml")
        out[int(d.name.split("-")[1])] = (list(cfg["data"]["train_cases"] or []), list(cfg["data"]["val_cases"] or []))
    return out
