"""`oocyteseg train`, `oocyteseg cv` and `oocyteseg evaluate`: parse, then call the library."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.cli.progress import progress_callback

DEVICE_HELP = ("Where to train: auto (CUDA when present, else cpu), cpu, cuda or cuda:N; default: the config's "
               "trainer.accelerator.")
SET_HELP = "Override a config key, e.g. --set optim.lr=1e-3 --set data.size=[240,320] (repeatable)."


def train_command(
    config: Path = typer.Option(..., "--config", "-c", help="YAML config (see configs/)."),
    overrides: list[str] = typer.Option(None, "--set", help=SET_HELP),
    out: Path = typer.Option(None, "--out", help="Run folder (default: runs/train/<config name>)."),
    resume: bool = typer.Option(False, help="Continue the run in --out from its last checkpoint."),
    overwrite: bool = typer.Option(False, help="Replace an existing run in --out."),
    progress: bool = typer.Option(True, help="Show the progress bar."),
    device: str = typer.Option(None, help=DEVICE_HELP),
) -> None:
    """Train a segmentation model (Lightning: CPU, GPU, or DDP via torchrun / SLURM).

    Example: oocyteseg train --config configs/fast-cpu.yaml --set optim.max_steps=300 --out runs/fast
    """
    from oocyteseg.devices import trainer_overrides
    from oocyteseg.training.config import load_config
    from oocyteseg.training.engine import train

    cfg = load_config(config, [*(overrides or []), *trainer_overrides(device)])
    out = out or Path("runs/train") / config.stem
    result = train(cfg, out, overwrite=overwrite, resume=resume, progress=progress)
    if result.rank != 0:  # DDP: one summary, from the process that wrote the outputs
        return
    best = "n/a (no validation data)" if result.best_val_miou is None else f"{result.best_val_miou:.4f}"
    Console().print(f"trained {result.steps} steps in {result.seconds:.0f} s; best val mIoU {best}\n"
                    f"model: [bold]{result.model_path}[/] (last step: {result.last_model_path})\n"
                    f"learning curve: {result.metrics_csv}, {result.curve_png}; run folder: {result.run_dir}")


def cv_command(
    config: Path = typer.Option(..., "--config", "-c", help="YAML config (see configs/)."),
    folds: str = typer.Option("leave-one-case-out", help="leave-one-case-out, or a number of folds K."),
    out: Path = typer.Option(..., "--out", help="CV folder (splits.json, fold-XX/, tables)."),
    overrides: list[str] = typer.Option(None, "--set", help=SET_HELP),
    resume: bool = typer.Option(False, help="Continue an interrupted fold from its last checkpoint."),
    overwrite: bool = typer.Option(False, help="Draw new splits and retrain every fold."),
    device: str = typer.Option(None, help=DEVICE_HELP + " The test evaluation runs there too (default: auto)."),
    final: bool = typer.Option(False, "--final", help="Then train the model to deploy on every case with the same "
                               "recipe: DIR/final/ with model.pt, model.onnx and model_card.md."),
    progress: bool = typer.Option(True, help="Show the progress bars."),
) -> None:
    """Cross-validate by case: one run per fold, then a per-case IoU table over all folds.

    Re-running reuses DIR/splits.json and skips finished folds.

    Example: oocyteseg cv --config configs/fast-cpu.yaml --folds leave-one-case-out --out runs/cv-fast --final
    """
    from oocyteseg.devices import trainer_overrides
    from oocyteseg.evaluation.crossval import cross_validate
    from oocyteseg.training.config import load_config

    cfg = load_config(config, [*(overrides or []), *trainer_overrides(device)])
    result = cross_validate(cfg, folds, out, resume=resume, overwrite=overwrite, progress=progress,
                            device=device or "auto")
    if result.rank != 0:
        return
    console = Console()
    console.print(result.table_md.read_text())
    console.print(f"cross-validation ({len(result.splits.folds)} folds) written to [bold]{result.out_dir}[/]: "
                  f"{result.table_csv.name}, {result.table_md.name}, overall.json, splits.json")
    if final:
        from oocyteseg.pipelines.final_model import train_final_model

        model = train_final_model(cfg, out, resume=resume, overwrite=overwrite, progress=progress)
        console.print(f"model to deploy ({model.steps} steps on every case): [bold]{model.onnx}[/] "
                      f"(checkpoint {model.model.name}, card {model.card})")


def evaluate_command(
    checkpoint: Path = typer.Argument(..., help="Portable model (model.pt written by `oocyteseg train`)."),
    data: Path = typer.Argument(..., help="Manifest (CSV/Parquet) or a folder holding manifest.csv."),
    out: Path = typer.Option(None, "--out", help="Output folder (default: next to the checkpoint, eval-<data>)."),
    cases: list[str] = typer.Option(None, "--cases", help="Evaluate only these cases (repeatable)."),
    batch_size: int = typer.Option(4, help="Images per forward pass."),
    device: str = typer.Option("auto", help="auto (CUDA when present, else cpu), cpu, cuda or cuda:N."),
    overwrite: bool = typer.Option(False, help="Replace existing outputs in --out."),
    name: str = typer.Option("Real", help="Regime name of CHECKPOINT in the regime table (with --compare)."),
    compare: list[str] = typer.Option(None, "--compare", help="Another regime NAME=MODEL.pt for the Andreini-style "
                                      "table regimes.csv/.md (repeatable)."),
    tta: str = typer.Option("none", "--tta", help="Test-time augmentation: none, or flip (each image and its mirror "
                            "image, logits averaged), as `analyze --tta`."),
) -> None:
    """Evaluate a model: confusion matrices per case and overall -> accuracy, IoU, Dice tables.

    Example: oocyteseg evaluate runs/fast/model.pt runs/phantom/manifest.csv --out runs/fast/eval --cases case06

    Regimes: oocyteseg evaluate runs/real/model.pt DATA --compare Synthetic=runs/syn/model.pt
    --compare "Real + Synthetic"=runs/ft/model.pt --cases incl019 ...
    """
    from oocyteseg.cli.options import tta_option
    from oocyteseg.evaluation.evaluate import evaluate_checkpoint, write_evaluation
    from oocyteseg.io.atomic import check_writable

    tta = tta_option(tta)
    out = out or checkpoint.parent / f"eval-{data.stem if data.is_file() else data.name}"
    check_writable(out / "overall.json", overwrite)
    with progress_callback() as update:
        result, _ = evaluate_checkpoint(checkpoint, data, cases=cases or None, batch_size=batch_size, device=device,
                                        progress=update, tta=tta)
    paths = write_evaluation(result, out, overwrite=overwrite, title=f"{checkpoint} on {data}")
    m = result.overall_metrics()
    console = Console()
    console.print(paths["table_md"].read_text())
    if compare:
        from oocyteseg.errors import OocytesegError
        from oocyteseg.evaluation.regimes import compare_regimes, write_regime_table

        regimes = {name: checkpoint}
        for item in compare:
            key, sep, path = item.partition("=")
            if not sep:
                raise OocytesegError(f"--compare {item!r} is not NAME=MODEL.pt", fix="e.g. --compare Synthetic=runs/syn/model.pt")
            regimes[key] = Path(path)
        table = compare_regimes(regimes, data, cases=cases or None, batch_size=batch_size, device=device, tta=tta)
        csv, md = write_regime_table(table, out, overwrite=overwrite)
        console.print(md.read_text())
        paths.update({"regimes_csv": csv, "regimes_md": md})
    console.print(f"overall: accuracy {m['accuracy']:.4f}, mean IoU {m['mean_iou']:.4f} (foreground), "
                  f"{m['mean_iou_all']:.4f} (all classes), mean Dice {m['mean_dice']:.4f}\n"
                  f"written to [bold]{out}[/]: {', '.join(p.name for p in paths.values())}")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("cv")(cv_command)
    app.command("evaluate")(evaluate_command)
