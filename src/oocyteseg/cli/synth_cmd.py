"""`oocyteseg synth ...`: label maps, GAN training and synthetic data generation (parsing only)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console()
synth_app = typer.Typer(help="Synthetic training images: label-map samplers and the mask->image GAN.",
                        no_args_is_help=True)


class Kind(str, Enum):
    inclusions = "inclusions"
    icsi = "icsi"


@synth_app.command("labelmaps")
def labelmaps(
    n: int = typer.Option(..., "--n", min=1, help="Number of label maps."),
    out: Path = typer.Option(..., "--out", help="Output folder (masks/, objects.csv, sampler.yaml)."),
    seed: int = typer.Option(0, "--seed", help="Seed; map i depends only on (seed, i)."),
    kind: Kind = typer.Option(Kind.inclusions, "--kind", help="inclusions (Andreini spots) or icsi (oocyte/sERC/needle)."),
    within: Optional[Path] = typer.Option(None, "--within", help="Mask PNG whose nonzero region may hold spots."),
    config: Optional[Path] = typer.Option(None, "--config", help="GAN config YAML (its sampler_* sections are used)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
) -> None:
    """Sample random label maps (index PNGs).

    Example: oocyteseg synth labelmaps --n 1000 --out runs/labelmaps --seed 0 --kind inclusions
    """
    from oocyteseg.synth.config import load_gan_config
    from oocyteseg.synth.generate import write_labelmaps

    path = write_labelmaps(n, out, seed=seed, kind=kind.value, config=load_gan_config(config), within=within,
                           overwrite=overwrite)
    console.print(f"label maps written to [bold]{path}[/] (masks/, objects.csv, sampler.yaml)")


@synth_app.command("train-gan")
def train_gan_cmd(
    data: Path = typer.Option(..., "--data", help="manifest.csv, a folder with one, or a folder with images/ + masks/."),
    out: Path = typer.Option(..., "--out", help="Run folder (checkpoints/, samples/, losses.csv, config.yaml)."),
    config: Optional[Path] = typer.Option(None, "--config", help="GAN config YAML, e.g. configs/gan-inclusions.yaml."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Total generator updates (overrides the config)."),
    cases: Optional[str] = typer.Option(None, "--cases", help="Comma-separated training cases to use (others ignored)."),
    splits: Optional[Path] = typer.Option(None, "--splits", help="splits.json: train on its 'train' cases, never its 'test' ones."),
    fold: Optional[int] = typer.Option(None, "--fold", help="Fold index when the splits file holds several folds."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the run folder's last checkpoint."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing run folder."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="torch CPU threads (1 is steadier on a busy shared machine)."),
) -> None:
    """Train the pix2pix mask->image GAN on (mask, image) training pairs.

    Example: oocyteseg synth train-gan --data data/inclusions/manifest.csv --out runs/gan --config configs/gan-inclusions.yaml --steps 2000
    """
    from oocyteseg.synth.config import load_gan_config
    from oocyteseg.synth.pairs import read_split_cases
    from oocyteseg.synth.train import train_gan

    keep = None if cases is None else {c.strip() for c in cases.split(",") if c.strip()}
    exclude: set[str] = set()
    if splits is not None:
        train_cases, exclude = read_split_cases(splits, fold)
        keep = train_cases if keep is None else keep & train_cases
    run = train_gan(data, out, None if config is None else load_gan_config(config), steps=steps, cases=keep,
                    exclude_cases=exclude, resume=resume, overwrite=overwrite, threads=threads)
    console.print(f"GAN run at step {run.step}: [bold]{run.out_dir}[/] (checkpoint {run.checkpoint}, "
                  f"losses {run.losses}, samples/)")


@synth_app.command("generate")
def generate_cmd(
    gan: Path = typer.Option(..., "--gan", help="GAN run folder or checkpoint file."),
    n: int = typer.Option(..., "--n", min=1, help="Number of synthetic images."),
    out: Path = typer.Option(..., "--out", help="Output data set folder (images/, masks/, manifest.csv)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the label maps; the same seed gives the same files."),
    kind: Optional[Kind] = typer.Option(None, "--kind", help="Label-map kind (default: the GAN's label set)."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Images per generator pass."),
    within: Optional[Path] = typer.Option(None, "--within", help="Mask PNG whose nonzero region may hold spots."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                          help="torch CPU threads (1 is steadier on a busy shared machine)."),
) -> None:
    """Generate a synthetic (GAN-made) data set that the training engine reads.

    Example: oocyteseg synth generate --gan runs/gan --n 1000 --out runs/synthetic --seed 0
    """
    from oocyteseg.synth.generate import generate

    path = generate(gan, n, out, seed=seed, kind=None if kind is None else kind.value, batch_size=batch_size,
                    within=within, overwrite=overwrite, threads=threads)
    console.print(f"synthetic data set written to [bold]{path}[/] (manifest {path / 'manifest.csv'})")


def register(app: typer.Typer) -> None:
    """Add the `synth` command group to the main app."""
    app.add_typer(synth_app, name="synth")
