"""The Andreini experiment end to end through the CLI on 5 tiny phantom close-ups: three regimes in the
form of their Table 2, and the GAN and the segmentation models never see a test image."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from oocyteseg.cli.main import main
from oocyteseg.pipelines.andreini import REGIMES, audit, split_cases

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

TINY_GAN = {"generator": {"base_width": 4, "depth": 3, "max_width": 8, "upsample": "resize", "noise_channels": 1},
            "discriminator": {"base_width": 4, "n_layers": 2, "max_width": 8},
            "train": {"batch_size": 2, "sample_every": 1, "checkpoint_every": 1}}


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("andreini")
    configs = root / "configs"
    configs.mkdir()
    shutil.copy(CONFIGS / "andreini-smanet.yaml", configs)
    gan = yaml.safe_load((CONFIGS / "gan-inclusions.yaml").read_text())
    for section, values in TINY_GAN.items():
        gan[section].update(values)
    (configs / "gan-inclusions.yaml").write_text(yaml.safe_dump(gan))
    manifest = _phantom(root / "data")
    out = root / "run"
    code = main(["experiment", "andreini", "--out", str(out), "--data", str(manifest), "--model", "unet_small_tiny",
                 "--budget", "0.0004", "--n-synthetic", "4", "--gan-steps", "2", "--batch-size", "2",
                 "--set", "data.size=[64, 64]", "--config-dir", str(configs), "--threads", "1",
                 "--train", "3", "--test", "2", "--spots", "hull"])
    assert code == 0
    return out, manifest


def _phantom(out: Path) -> Path:
    from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

    return make_phantom_dataset(out, PhantomConfig(cases=0, video_formats=(), inclusion_images=5))


def test_table_has_the_papers_form(experiment):
    out, _ = experiment
    table = pd.read_csv(out / "regimes.csv")
    assert list(table.columns) == ["Trained on", "Accuracy", "Mean IoU"]
    assert tuple(table["Trained on"]) == REGIMES
    assert table[["Accuracy", "Mean IoU"]].stack().between(0, 1).all()
    assert "Andreini et al. Table 2" in (out / "report.md").read_text()
    assert (out / "samples.png").is_file() and (out / "regimes.md").is_file()


def test_no_test_image_is_used_for_training(experiment):
    out, manifest = experiment
    info = audit(out)
    train, test = set(info["splits"]["train"]), set(info["splits"]["test"])
    assert train == {"incl001", "incl002", "incl003"} and test == {"incl004", "incl005"}
    assert set(info["gan_cases"]) <= train
    assert set(info["train_cases"]["real"]) == train == set(info["train_cases"]["finetune"])
    assert info["train_cases"]["synthetic"] == ["synthetic"]
    assert all(not v for v in info["val_cases"].values())  # the test images are never a validation set
    synthetic = pd.read_csv(out / "synthetic" / "manifest.csv")
    assert set(synthetic["source"]) == {"synthetic"} and len(synthetic) == 4
    tuned = yaml.safe_load((out / "runs" / "finetune" / "config.yaml").read_text())
    assert Path(tuned["init_checkpoint"]) == out / "runs" / "synthetic" / "model-last.pt"
    assert json.loads((out / "experiment.json").read_text())["synthetic_images"] == 4


def test_synthetic_spots_lie_where_the_training_spots_lie(experiment):
    """The label maps' spots stay inside gan/spot_region.png, the hull of the *training* masks' spots (never
    a test mask's), and the report gives the checkerboard share of synthetic and real images."""
    from oocyteseg.io.images import read_mask
    from oocyteseg.synth.quality import spot_region

    out, manifest = experiment
    region = read_mask(out / "gan" / "spot_region.png")
    rows = pd.read_csv(manifest)
    rows = rows[rows["labelset"] == "inclusions"]
    masks = {r.case: read_mask(manifest.parent / r.mask) for r in rows.itertuples()}
    assert (region == spot_region([masks[c] for c in ("incl001", "incl002", "incl003")])).all()
    assert region.sum() < region.size  # the region is narrower than the whole map
    synthetic = pd.read_csv(out / "synthetic" / "manifest.csv")
    spots = [read_mask(out / "synthetic" / m) for m in synthetic["mask"]]
    assert any(s.any() for s in spots)
    assert all(not (s.astype(bool) & (region == 0)).any() for s in spots)
    board = json.loads((out / "experiment.json").read_text())["checkerboard"]
    assert set(board) == {"synthetic", "real"} and all(0 <= v <= 1 for v in board.values())
    assert "Checkerboard" in (out / "report.md").read_text()


def test_unknown_spot_placement_lists_the_valid_ones():
    from oocyteseg.errors import OocytesegError
    from oocyteseg.pipelines.andreini import AndreiniSettings

    with pytest.raises(OocytesegError, match="anywhere, hull"):
        AndreiniSettings(spots="edges")


def test_split_takes_first_cases_for_training(tmp_path):
    rows = [{"case": f"incl{i:03d}", "video": "", "frame_index": -1, "time_s": float("nan"),
             "image": f"i{i}.png", "mask": f"m{i}.png", "source": "phantom", "labelset": "inclusions",
             "width": 8, "height": 8} for i in range(26, 0, -1)]
    path = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    splits = split_cases(path, 18, 8)
    assert splits["train"] == [f"incl{i:03d}" for i in range(1, 19)]
    assert splits["test"] == [f"incl{i:03d}" for i in range(19, 27)]


def test_results_page_shows_ours_next_to_the_paper_and_keeps_notes(experiment, tmp_path, results_page):
    NOTES_BEGIN, NOTES_END, write_results_page = results_page.NOTES_BEGIN, results_page.NOTES_END, \
        results_page.write_results_page

    out, _ = experiment
    page = tmp_path / "results.md"
    page.write_text(f"STALE-LINE\n{NOTES_BEGIN}\nhand-written note\n{NOTES_END}\n")
    log = tmp_path / "andreini.log"
    log.write_text("Sun Nov 22 00:00:00 UTC 2026\noocyteseg experiment andreini --out X\n")
    text = write_results_page(page, None, out, tmp_path / "none.log", log).read_text()
    assert "oocyteseg experiment andreini --out X" in text and "0.6415" in text  # the paper's Real mean IoU
    assert "inclusion IoU" in text and ("**met**" in text or "**missed**" in text)
    assert "GAN generator upsampling: `resize`; label-map spots: `hull`" in text and "checkerboard share" in text
    assert "hand-written note" in text and "STALE-LINE" not in text
    assert "Shimotsu et al.\n\nNot run" in text


def test_results_page_has_one_section_per_andreini_run_and_keeps_them_all(experiment, tmp_path, results_page):
    out, _ = experiment
    page = tmp_path / "results.md"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    logs[0].write_text("Sun Nov 22 00:00:00 UTC 2026\noocyteseg experiment andreini --out A\n")
    logs[1].write_text("Mon Nov 23 00:00:00 UTC 2026\noocyteseg experiment andreini --out B\n")
    text = results_page.write_results_page(page, None, [out, out], tmp_path / "none.log", logs).read_text()
    assert text.count("## Andreini et al.: inclusions") == 2 and "(`unet_small_tiny`)" in text
    assert text.index("--out A") < text.index("--out B")
    with pytest.raises(SystemExit, match="2 Andreini run folder"):
        results_page.write_results_page(page, None, [out, out], tmp_path / "none.log", logs[:1])
    # neither re-run: both sections are kept, each marked, nothing else from the old page
    again = results_page.write_results_page(page, None, None, tmp_path / "none.log", tmp_path / "none.log").read_text()
    assert again.count("## Andreini et al.: inclusions") == 2 and "--out A" in again and "--out B" in again
    assert again.count("*Not re-run when this page was regenerated") == 2
    assert again.count("## Notes") == 1
    # one model re-run: its section is new, another model's section is kept from the page
    page.write_text(again + "\n## Andreini et al.: inclusions, real vs synthetic (`smanet`)\n\nSMANET-ROW\n")
    mixed = results_page.write_results_page(page, None, out, tmp_path / "none.log", logs[0]).read_text()
    assert mixed.count("(`unet_small_tiny`)") == 1 and "SMANET-ROW" in mixed
    assert mixed.count("*Not re-run when this page was regenerated") == 1
    # a section from before headings named the model: its text names it
    page.write_text("## Andreini et al.: inclusions\n\nRun time 6 min; model `unet_small`, 300 steps\n")
    older = results_page.write_results_page(page, None, out, tmp_path / "none.log", logs[0]).read_text()
    assert "model `unet_small`, 300 steps" in older and older.count("## Andreini et al.") == 2
