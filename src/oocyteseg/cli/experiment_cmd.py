"""`oocyteseg experiment shimotsu|andreini|injection`: reproduce a seed study, or issue #17's injection
study, in one command (parse, then call the pipeline)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from oocyteseg.errors import OocytesegError

console = Console()


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise OocytesegError("--models is empty", fix="pass e.g. --models deeplabv3_resnet50,unet_effnet_lite0")
    return names


def _sets(items: list[str] | None) -> dict[str, object]:
    """--set key=value pairs (values read as YAML) for the segmentation config of every run."""
    from oocyteseg.io.config_file import parse_override

    return dict(parse_override(item) for item in items or [])


def _size(text: str | None) -> dict[str, object]:
    if not text:
        return {}
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise OocytesegError(f"--size {text!r} is not HxW", fix="write e.g. --size 240x320") from None
    return {"data.size": [h, w]}


def shimotsu(
    out: Path = typer.Option(..., "--out", "-o", help="study folder"),
    videos: Path | None = typer.Option(None, "--videos", help="folder of ICSI videos (default: a phantom study)"),
    annotations: Path | None = typer.Option(None, "--annotations", help="folder of LabelMe JSON (DIR/<case>/*.json)"),
    budget: float = typer.Option(0.01, "--budget", min=1e-7, help="training steps = 25,000 x budget (1 = the paper)"),
    models: str | None = typer.Option(None, "--models",
                                      help="comma-separated registry names (or preset YAML files); default: "
                                      "deeplabv3_resnet50,unet_effnet_lite0 with a GPU, unet_effnet_lite0 without"),
    cases: int = typer.Option(11, "--cases", min=2, help="phantom cases (image counts follow Table 1)"),
    data_fraction: float | None = typer.Option(None, "--data-fraction", help="phantom stills = Table 1 x this "
                                               "(default min(1, 10 x budget))"),
    video_fps: float = typer.Option(24.0, "--video-fps", min=1.0, help="phantom video frame rate"),
    size: str | None = typer.Option(None, "--size", help="training size HxW (default: the preset's)"),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="default: the preset's"),
    threads: int | None = typer.Option(None, "--threads", min=1, help="torch CPU threads"),
    config_dir: Path = typer.Option(Path("configs"), "--config-dir", help="folder of the presets"),
    seed: int = typer.Option(0, "--seed"),
    sets: list[str] | None = typer.Option(None, "--set", help="config override key=value (repeatable)"),
    tip_steps: int = typer.Option(0, "--tip-steps", min=0,
                                  help="also train a native-resolution tip model per fold for this many steps and "
                                  "report each model again with its tips refined (MODEL+tip; 0: off)"),
    tta: str = typer.Option("none", "--tta", help="also report each model with test-time augmentation (flip: "
                            "each still and its mirror image, logits averaged) as MODEL+flip, its fold models "
                            "reused (none: off)"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted study"),
    overwrite: bool = typer.Option(False, "--overwrite", help="start again from scratch"),
) -> None:
    """Shimotsu et al.: frames at 1 fps -> LabelMe masks -> leave-one-case-out training -> IoU per case
    (Table 2) -> features on automatic vs manual masks (Table 3) -> report.md.

    Example: oocyteseg experiment shimotsu --out runs/shimotsu --models lraspp_mobilenet_v3 --budget 0.004
    """
    from oocyteseg.cli.options import tta_option
    from oocyteseg.cli.progress import progress_callback
    from oocyteseg.pipelines.shimotsu import ShimotsuSettings, default_models, run_shimotsu

    tta = tta_option(tta)
    overrides = {**_size(size), **({"optim.batch_size": batch_size} if batch_size else {}), **_sets(sets)}
    if models is None:
        from oocyteseg.devices import resolve_device

        names, note = default_models(resolve_device("auto").type == "cuda")
        if note:
            console.print(note)
    else:
        names = _names(models)
    s = ShimotsuSettings(models=names, budget=budget, cases=cases, data_fraction=data_fraction, seed=seed, video_fps=video_fps,
                         config_dir=config_dir, cpu_threads=threads, overrides=overrides, tip_steps=tip_steps,
                         tta=tta)
    with progress_callback() as progress:
        result = run_shimotsu(out, s, videos=videos, annotations=annotations, resume=resume, overwrite=overwrite,
                              progress=progress)
    for o in result.outcomes:
        console.print(f"[bold]{o.model}[/]: Table 2 form (IoU per case)")
        console.print(o.table2.round(3).to_string(index=False))
        console.print(f"[bold]{o.model}[/]: Table 3 form (relative error %, automatic vs manual)")
        console.print(o.table3.round(2).to_string())
    console.print(f"report: {result.report}  (study folder {result.out_dir})")


def andreini(
    out: Path = typer.Option(..., "--out", "-o", help="experiment folder"),
    data: Path | None = typer.Option(None, "--data", help="manifest of inclusion close-ups (default: the phantom's)"),
    budget: float = typer.Option(0.02, "--budget", min=1e-7, help="steps per regime = 5,000 x budget"),
    model: str = typer.Option("smanet", "--model", help="registry name (smaller ones for a CPU)"),
    n_train: int = typer.Option(18, "--train", min=1, help="training images: the first N cases (sorted)"),
    n_test: int = typer.Option(8, "--test", min=1, help="test images: the last N cases"),
    n_synthetic: int | None = typer.Option(None, "--n-synthetic", min=1, help="synthetic images to generate"),
    gan_steps: int | None = typer.Option(None, "--gan-steps", min=1, help="GAN steps (default from the budget)"),
    spots: str = typer.Option("anywhere", "--spots", help="where the label maps' spots go: anywhere (the paper's "
                              "sampler) or hull (inside the convex hull of the real training spots)"),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1, help="default: the preset's"),
    threads: int | None = typer.Option(None, "--threads", min=1, help="torch CPU threads"),
    config_dir: Path = typer.Option(Path("configs"), "--config-dir", help="folder of the presets"),
    seed: int = typer.Option(0, "--seed"),
    sets: list[str] | None = typer.Option(None, "--set", help="config override key=value (repeatable)"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted experiment"),
    overwrite: bool = typer.Option(False, "--overwrite", help="start again from scratch"),
) -> None:
    """Andreini et al.: real (flips/rotations) vs synthetic (pix2pix on the 18 training images) vs synthetic ->
    fine-tuned on real, evaluated on the 8 real test images (Table 2: Accuracy, Mean IoU).

    Example: oocyteseg experiment andreini --out runs/andreini --model unet_small --budget 0.02
    """
    from oocyteseg.pipelines.andreini import AndreiniSettings, run_andreini

    s = AndreiniSettings(model=model, budget=budget, n_train=n_train, n_test=n_test, n_synthetic=n_synthetic, gan_steps=gan_steps, seed=seed,
                         spots=spots,
                         config_dir=config_dir, cpu_threads=threads,
                         overrides={**({"optim.batch_size": batch_size} if batch_size else {}), **_sets(sets)})
    result = run_andreini(out, s, data=data, resume=resume, overwrite=overwrite)
    console.print(result.table.round(4).to_string(index=False))
    console.print(f"report: {result.report}  (table {result.out_dir / 'regimes.md'}, samples "
                  f"{result.out_dir / 'samples.png'})")


def injection(
    out: Path = typer.Option(..., "--out", "-o", help="study folder"),
    cases: int = typer.Option(8, "--cases", min=1, help="phantom cases; the modes take turns (8 = each mode twice)"),
    seed: int = typer.Option(0, "--seed"),
    model: Path | None = typer.Option(None, "--model", help="also read the injection from this model's predictions "
                                      "(.pt or .onnx, through analyze)"),
    seconds: float | None = typer.Option(None, "--seconds", min=0.5, help="video length per case (default 8 s)"),
    size: str | None = typer.Option(None, "--size", help="phantom frame size HxW (default 480x640)"),
    threads: int | None = typer.Option(None, "--threads", min=1,
                                       help="CPU threads of the model per segmentation worker (default: the cores "
                                            "shared by the two workers)"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an earlier study in --out"),
) -> None:
    """Render phantom ICSI videos with known oolemma responses (pressure, shallow, no resistance,
    repeated), read the injection from the true masks (and a model's predictions with --model), and
    tabulate the error against the truth: injection_per_case.csv/.md (per case, Average, SD) and a log.

    Example: oocyteseg experiment injection --out runs/injection --cases 8
    """
    import shlex

    from oocyteseg.cli.progress import progress_callback
    from oocyteseg.pipelines.injection_study import InjectionStudySettings, run_injection_study

    h, w = _size(size).get("data.size", [480, 640])
    s = InjectionStudySettings(cases=cases, seed=seed, seconds=seconds, height=h, width=w, model=model,
                               threads=threads)
    given = {"--out": out, "--cases": cases, "--seed": seed, "--model": model, "--seconds": seconds, "--size": size,
             "--threads": threads}
    command = "oocyteseg experiment injection " + " ".join(f"{k} {shlex.quote(str(v))}" for k, v in given.items()
                                                           if v is not None) + (" --overwrite" if overwrite else "")
    with progress_callback() as progress:
        result = run_injection_study(out, s, overwrite=overwrite, command=command, progress=progress)
    console.print(result.table.round(2).to_string(index=False), soft_wrap=True)
    console.print(f"table: {result.csv} ({result.markdown.name}), log {result.log}")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="Reproduce a seed study in one command (phantom data by default).", no_args_is_help=True)
    sub.command("shimotsu")(shimotsu)
    sub.command("andreini")(andreini)
    sub.command("injection")(injection)
    app.add_typer(sub, name="experiment")
