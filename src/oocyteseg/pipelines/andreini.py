"""The Andreini et al. experiment in one call: one segmentation model, one budget, three training regimes,
all evaluated on the same real test images (their Table 2: rows = regimes, Accuracy, Mean IoU).

(a) "Real": the real training images with flips and rotations (augment preset "andreini");
(b) "Synthetic": a pix2pix GAN (issue-7 `synth train-gan`) trained on the real training images ONLY
    turns sampled label maps into N synthetic images (`synth generate`), and the model trains on those;
(c) "Real + Synthetic": the synthetic model fine-tuned on the real training images (init_checkpoint).

Default data: the phantom's 26 inclusion close-ups (incl001..incl026): the first 18 train, the last 8
test, as in Andreini Table 1. The split is written to `splits.json` and every stage reads it; each
stage is skipped when its outputs exist (`resume`).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import INCLUSIONS
from oocyteseg.data.manifest import load_manifest
from oocyteseg.errors import OocytesegError
from oocyteseg.evaluation.evaluate import evaluate_checkpoint
from oocyteseg.evaluation.metrics import iou_from_confusion
from oocyteseg.evaluation.regimes import write_regime_table
from oocyteseg.evaluation.tables import regime_table, table_to_markdown
from oocyteseg.io.atomic import check_writable, write_json, write_table, write_text
from oocyteseg.io.images import read_image, read_mask, write_mask
from oocyteseg.io.wall_clock import RunClock
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset
from oocyteseg.synth.config import load_gan_config, parse_gan_config
from oocyteseg.synth.generate import generate
from oocyteseg.synth.grids import write_nearest_grid
from oocyteseg.synth.quality import checkerboard_energy, spot_region
from oocyteseg.synth.train import train_gan
from oocyteseg.training.config import TrainConfig, load_config
from oocyteseg.training.engine import train

PAPER_TABLE2 = {"Real": (0.9985, 0.6415), "Synthetic": (0.9974, 0.6937), "Real + Synthetic": (0.9988, 0.7220)}
PRESET_STEPS = 5_000  # max_steps of configs/andreini-smanet.yaml: --budget 1 trains each regime this long
GAN_STEPS = 2_000  # train.steps of configs/gan-inclusions.yaml
REGIMES = ("Real", "Synthetic", "Real + Synthetic")
SPOT_TEXT = {"anywhere": "anywhere in the map (the paper's sampler)",
             "hull": "inside the convex hull of the real training masks' inclusions + 4 px (gan/spot_region.png)"}
SPOT_PLACEMENTS = tuple(SPOT_TEXT)  # where label-map spots may go (`--spots`)


@dataclass
class AndreiniSettings:
    """What the experiment runs. `budget` scales the segmentation steps (5,000 x budget per regime), the GAN
    steps (2,000 x budget x 5, at most 2,000) and the synthetic set (1,000 x budget x 10, at most 1,000)."""

    model: str = "smanet"
    budget: float = 0.02
    n_train: int = 18
    n_test: int = 8
    n_synthetic: int | None = None
    gan_steps: int | None = None
    seed: int = 0
    config_dir: Path = Path("configs")
    cpu_threads: int | None = None
    overrides: dict[str, object] = field(default_factory=dict)  # dotted keys for the segmentation config
    gan_overrides: dict[str, dict] = field(default_factory=dict)  # sections merged into the GAN config
    spots: str = "anywhere"  # where label-map spots go: SPOT_PLACEMENTS ("hull": where the real training spots lie)

    def __post_init__(self) -> None:
        if self.spots not in SPOT_PLACEMENTS:
            raise OocytesegError(f"unknown spot placement {self.spots!r}; valid: {', '.join(SPOT_PLACEMENTS)}",
                                 fix="pass --spots anywhere or --spots hull")

    def steps(self) -> int:
        return max(1, int(round(PRESET_STEPS * self.budget)))

    def gan_total_steps(self) -> int:
        return self.gan_steps or max(1, min(GAN_STEPS, int(round(GAN_STEPS * self.budget * 5))))

    def synthetic_images(self) -> int:
        return self.n_synthetic or max(8, min(1000, int(round(1000 * self.budget * 10))))


@dataclass
class AndreiniResult:
    out_dir: Path
    table: pd.DataFrame
    report: Path
    splits: dict[str, list[str]]
    seconds: float


def split_cases(manifest: Path, n_train: int, n_test: int) -> dict[str, list[str]]:
    """First n_train cases (sorted) train, the last n_test test; the two never overlap."""
    cases = sorted(set(load_manifest(manifest, INCLUSIONS.name)["case"].astype(str)))
    if len(cases) < n_train + n_test:
        raise OocytesegError(f"the data has {len(cases)} inclusion images/cases; {n_train} + {n_test} are needed",
                             manifest, "pass a manifest with more inclusion images or lower --train/--test")
    return {"train": cases[:n_train], "test": cases[-n_test:]}


def segmentation_config(s: AndreiniSettings, manifests: list[Path], train_cases: list[str] | None,
                        init: Path | None = None) -> TrainConfig:
    """configs/andreini-smanet.yaml with this run's data, model, steps and no validation split (the test
    images are only used after training)."""
    steps = s.steps()
    every = max(1, steps // 4)
    overrides = {"data.manifests": [str(m) for m in manifests], "data.val_cases": None,
                 "data.train_cases": train_cases, "model.name": s.model, "optim.max_steps": steps,
                 "seed": s.seed, "num_workers": 0, "trainer.val_every_n_steps": every,
                 "trainer.checkpoint_every_n_steps": every, "trainer.log_every_n_steps": max(1, min(25, steps // 10)),
                 "trainer.accelerator": "cpu", "trainer.devices": 1, "init_checkpoint": str(init) if init else None,
                 **({"trainer.cpu_threads": s.cpu_threads} if s.cpu_threads else {}), **s.overrides}
    return load_config(s.config_dir / "andreini-smanet.yaml", [f"{k}={json.dumps(v)}" for k, v in overrides.items()])


def train_once(config: TrainConfig, run_dir: Path, resume: bool, progress: bool) -> Path:
    """Train unless run_dir/model-last.pt exists; an interrupted run continues with `resume`."""
    model = run_dir / "model-last.pt"
    if model.is_file():
        return model
    started = (run_dir / "checkpoints" / "last.ckpt").is_file()
    result = train(config, run_dir, overwrite=not (resume and started), resume=resume and started, progress=progress)
    if result.interrupted:
        raise OocytesegError("training was interrupted", run_dir, "re-run with --resume")
    return result.last_model_path


def training_rows(manifest: Path, train_cases: list[str]) -> pd.DataFrame:
    """The manifest's inclusion rows of the training cases (never a test case's)."""
    rows = load_manifest(manifest, INCLUSIONS.name)
    return rows[rows["case"].astype(str).isin(train_cases)]


def write_spot_region(s: AndreiniSettings, manifest: Path, splits: dict[str, list[str]], gan_dir: Path) -> Path | None:
    """gan/spot_region.png (the hull of the training masks' spots, `synth.quality.spot_region`), or None when
    the spots go anywhere (the paper's sampler)."""
    if s.spots == "anywhere":
        return None
    path = gan_dir / "spot_region.png"
    masks = [read_mask(p) for p in training_rows(manifest, splits["train"])["mask_path"]]
    write_mask(path, spot_region(masks), overwrite=True)
    return path


def train_synthesis(s: AndreiniSettings, manifest: Path, splits: dict[str, list[str]], out: Path, resume: bool,
                    progress: bool) -> Path:
    """GAN on the real training images only (test cases excluded), then N synthetic images whose spots lie
    where `s.spots` says; returns their manifest."""
    synthetic = out / "synthetic" / "manifest.csv"
    if synthetic.is_file():
        return synthetic
    gan_dir = out / "gan"
    raw = load_gan_config(s.config_dir / "gan-inclusions.yaml").model_dump(mode="json")
    for section, values in s.gan_overrides.items():
        raw[section] = {**raw.get(section, {}), **values}
    raw["train"] = {**raw["train"], "seed": s.seed}
    cfg = parse_gan_config(raw)
    resuming = resume and (gan_dir / "checkpoints" / "last.pt").is_file()
    train_gan(manifest, gan_dir, cfg, steps=s.gan_total_steps(), cases=set(splits["train"]),
              exclude_cases=set(splits["test"]), resume=resuming, overwrite=not resuming, progress=progress,
              threads=s.cpu_threads)
    generate(gan_dir, s.synthetic_images(), out / "synthetic", seed=s.seed + 1, overwrite=True, progress=progress,
             threads=s.cpu_threads, within=write_spot_region(s, manifest, splits, gan_dir))
    return synthetic


def regime_confusions(models: dict[str, Path], manifest: Path, test_cases: list[str]) -> dict[str, np.ndarray]:
    """Each regime's model on the same test images: regime -> summed confusion matrix."""
    return {name: evaluate_checkpoint(ckpt, manifest, cases=test_cases)[0].overall_cm for name, ckpt in models.items()}


def class_iou_table(cms: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per-class IoU of each regime (the inclusion column is the rare class the Mean IoU hides)."""
    return pd.DataFrame([{"Trained on": k, **dict(zip(INCLUSIONS.classes, iou_from_confusion(cm)))}
                         for k, cm in cms.items()])


def finished_confusions(out: str | os.PathLike) -> dict[str, np.ndarray]:
    """Re-evaluate a finished experiment folder's three models on its test images (for the results page)."""
    out = Path(out)
    info = json.loads((out / "experiment.json").read_text())
    splits = json.loads((out / "splits.json").read_text())
    runs = {name: out / "runs" / d / "model-last.pt" for name, d in zip(REGIMES, ("real", "synthetic", "finetune"))}
    return regime_confusions(runs, Path(info["data"]), splits["test"])


def checkerboard(synthetic: Path, manifest: Path, train_cases: list[str]) -> dict[str, float]:
    """Period-2 spectral share (`synth.quality.checkerboard_energy`) of the synthetic and the real training images."""
    real = [read_image(p) for p in training_rows(manifest, train_cases)["image_path"]]
    fakes = [read_image(synthetic.parent / i) for i in pd.read_csv(synthetic)["image"]]
    return {"synthetic": checkerboard_energy(fakes), "real": checkerboard_energy(real)}


def sample_grid(out: Path, synthetic: Path, manifest: Path, train_cases: list[str], n: int = 6) -> list[float]:
    """samples.png: rows of (label map | generated | nearest real training image); returns the distances."""
    syn = pd.read_csv(synthetic).head(n)
    real = [read_image(p) for p in training_rows(manifest, train_cases)["image_path"]]
    maps = [read_mask(synthetic.parent / m) for m in syn["mask"]]
    fakes = [read_image(synthetic.parent / i) for i in syn["image"]]
    return write_nearest_grid(out / "samples.png", maps, fakes, real, INCLUSIONS, overwrite=True)


def run_andreini(out: str | os.PathLike, settings: AndreiniSettings | None = None, *,
                 data: str | os.PathLike | None = None, resume: bool = False, overwrite: bool = False,
                 progress: bool = True) -> AndreiniResult:
    """Run (or continue) the three regimes into `out` and write regimes.csv/.md, samples.png and report.md."""
    s = settings or AndreiniSettings()
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (resume or overwrite):
        check_writable(out / "regimes.csv", overwrite)
        raise OocytesegError("the experiment folder is not empty", out, "pass --resume to continue it or --overwrite")
    if overwrite and not resume and out.exists():
        shutil.rmtree(out)
    with RunClock(out, fallback=out / "experiment.json", resume=resume) as clock:  # killed runs count too
        manifest = Path(data) if data else out / "phantom" / "manifest.csv"
        if data is None and not manifest.is_file():
            make_phantom_dataset(out / "phantom", PhantomConfig(cases=0, seed=s.seed, video_formats=(),
                                                                inclusion_images=s.n_train + s.n_test), overwrite=True)
        elif data is not None and not manifest.is_file():
            raise OocytesegError("data manifest not found", manifest, "pass a manifest.csv of inclusion images")
        splits_path = out / "splits.json"
        if splits_path.is_file():
            splits = json.loads(splits_path.read_text())
        else:
            splits = split_cases(manifest, s.n_train, s.n_test)
            write_json(splits_path, splits)
        runs = out / "runs"
        real = train_once(segmentation_config(s, [manifest], splits["train"]), runs / "real", resume, progress)
        synthetic = train_synthesis(s, manifest, splits, out, resume, progress)
        syn_model = train_once(segmentation_config(s, [synthetic], None), runs / "synthetic", resume, progress)
        tuned = train_once(segmentation_config(s, [manifest], splits["train"], init=syn_model), runs / "finetune",
                           resume, progress)
        cms = regime_confusions(dict(zip(REGIMES, (real, syn_model, tuned))), manifest, splits["test"])
        table = regime_table(cms)
        write_table(class_iou_table(cms), out / "per_class_iou.csv", overwrite=True)
        write_regime_table(table, out, overwrite=True,
                           title=f"Andreini Table 2 form: {s.model}, {s.steps()} steps per regime, "
                                 f"{len(splits['test'])} real test images")
        distances = sample_grid(out, synthetic, manifest, splits["train"])
        board = checkerboard(synthetic, manifest, splits["train"])
        seconds, total, n_runs = clock.seconds, clock.total, clock.runs
    report = write_text(out / "report.md", experiment_report(s, table, splits, distances, total, board, n_runs),
                        overwrite=True)
    write_json(out / "experiment.json", {"settings": {**asdict(s), "config_dir": str(s.config_dir)},
                                         "data": str(manifest), "steps": s.steps(), "gan_steps": s.gan_total_steps(),
                                         "synthetic_images": s.synthetic_images(), "seconds": round(seconds, 1),
                                         "seconds_total": round(total, 1), "runs": n_runs,
                                         "checkerboard": board,
                                         "table": table.to_dict(orient="records")}, overwrite=True)
    return AndreiniResult(out, table, report, splits, seconds)


def experiment_report(s: AndreiniSettings, table: pd.DataFrame, splits: dict[str, list[str]],
                      distances: list[float], seconds: float, board: dict[str, float], runs: int = 1) -> str:
    """Markdown: the regime table next to the paper's, the split, the synthesis settings and the sample grid."""
    paper = pd.DataFrame([{"Trained on": k, "Accuracy": a, "Mean IoU": m} for k, (a, m) in PAPER_TABLE2.items()])
    return "\n".join([
        "# Andreini et al. experiment: three training regimes, one model, one budget", "",
        f"Model `{s.model}`, {s.steps()} steps per regime (5,000 x budget {s.budget:g}); GAN {s.gan_total_steps()} "
        f"steps on the {len(splits['train'])} real training images only; {s.synthetic_images()} synthetic images. "
        f"Test: {len(splits['test'])} real images ({', '.join(splits['test'])}). Total time {seconds / 60:.1f} min"
        + (f" over {runs} runs of this folder (--resume)." if runs > 1 else "."), "",
        table_to_markdown(table, digits=4, title="Ours"),
        table_to_markdown(paper, digits=4, title="Andreini et al. Table 2 (real microscope images, SMANet)"),
        "Mean IoU is over both classes (background included), from the summed confusion matrix of the test images.",
        "", "`samples.png`: label map | generated image | nearest real training image (RMS distance of 64x64 "
        f"thumbnails: {', '.join(f'{d:.3f}' for d in distances)}).", "",
        f"Spots of the label maps: {SPOT_TEXT[s.spots]}. Checkerboard (share of the spectral power at the period-2 "
        f"frequencies): synthetic {board['synthetic']:.2e}, real training images {board['real']:.2e}.", ""])


def audit(out: str | os.PathLike) -> dict[str, object]:
    """What each stage actually trained on, read back from the run folders (for tests and reviewers)."""
    out = Path(out)
    splits = json.loads((out / "splits.json").read_text())
    gan_pairs = pd.read_csv(out / "gan" / "pairs.csv")
    used = {name: json.loads((out / "runs" / name / "data.json").read_text()) for name in ("real", "synthetic", "finetune")}
    return {"splits": splits, "gan_cases": sorted(set(gan_pairs["case"].astype(str))) if "case" in gan_pairs else [],
            "train_cases": {k: v["train_cases"] for k, v in used.items()},
            "val_cases": {k: v["val_cases"] for k, v in used.items()}}
