"""The Shimotsu study end to end on a tiny phantom: videos -> 1 fps frames -> LabelMe -> leave-one-case-out
-> Table 2 / Table 3 forms; no test case is ever a training case; a finished study resumes without training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from oocyteseg.cli.main import main
from oocyteseg.pipelines.shimotsu import TABLE1_IMAGES, ShimotsuSettings, run_shimotsu, used_training_cases

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def tiny_settings() -> ShimotsuSettings:
    return ShimotsuSettings(models=("lraspp_mobilenet_v3_tiny",), budget=4e-5, cases=3, data_fraction=0.01,
                            min_images=2, video_fps=2.0, frame_size=(96, 128), config_dir=CONFIGS, cpu_threads=1,
                            overrides={"data.size": [48, 64], "optim.batch_size": 2})


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("shimotsu") / "study"
    return run_shimotsu(out, tiny_settings(), show_training_progress=False)


def test_images_per_case_follow_table1():
    s = ShimotsuSettings(data_fraction=1.0)
    assert s.images_per_case() == list(TABLE1_IMAGES)
    assert ShimotsuSettings(budget=1.0).steps() == 25_000
    small = ShimotsuSettings(data_fraction=0.1, min_images=1).images_per_case()
    assert small[6] == 9 and small[7] == 4  # case 7 (89 images) stays the largest, case 8 (38) the smallest


def test_tables_have_the_papers_form(study):
    (outcome,) = study.outcomes
    t2 = outcome.table2
    assert list(t2.columns) == ["case", "oocyte", "sERC", "needle", "Average"]
    assert list(t2["case"]) == ["case01", "case02", "case03", "Average"]
    assert ((t2[["oocyte", "sERC", "needle"]].stack() >= 0) & (t2[["oocyte", "sERC", "needle"]].stack() <= 1)).all()
    t3 = outcome.table3
    assert [c for c in t3.columns.get_level_values(0).unique()] == ["f1 [%]", "f2 [%]", "f3 [%]", "f4 [%]"]
    assert list(t3.columns.get_level_values(1)[:2]) == ["AVG", "SD"]
    assert list(t3.index)[-1] == "AVG" and len(t3) == 4
    report = study.report.read_text()
    assert "Table 2 form" in report and "Table 3 form" in report and "f4" in report


def test_frames_come_from_the_videos_at_1_fps(study):
    import pandas as pd

    manifest = pd.read_csv(study.manifest)
    assert set(manifest["source"]) == {"labelme"}
    frames = pd.read_csv(study.out_dir / "frames" / "frames.csv")
    assert sorted(frames["time_s"].round(3).unique().tolist())[:2] == [0.0, 1.0]
    assert manifest.groupby("case").size().tolist() == [2, 2, 2]


def test_no_test_case_is_a_training_case(study):
    cv = study.out_dir / "lraspp_mobilenet_v3_tiny" / "cv"
    splits = json.loads((cv / "splits.json").read_text())
    folds = used_training_cases(cv)
    assert len(folds) == 3
    tested = []
    for index, (train, test) in folds.items():
        assert not set(train) & set(test)
        assert test == splits["folds"][index]["test"] and len(test) == 1
        data = json.loads((cv / f"fold-{index:02d}" / "data.json").read_text())
        assert test[0] not in data["train_cases"]
        tested += test
    assert sorted(tested) == ["case01", "case02", "case03"]


def test_resume_reuses_finished_folds_and_cli_refuses_a_used_folder(study):
    model = study.out_dir / "lraspp_mobilenet_v3_tiny" / "cv" / "fold-00" / "model-last.pt"
    before = model.stat().st_mtime_ns
    again = run_shimotsu(study.out_dir, tiny_settings(), resume=True, show_training_progress=False)
    assert model.stat().st_mtime_ns == before
    assert again.outcomes[0].table2.equals(study.outcomes[0].table2)
    # the report's total time adds this run to the earlier ones, not just the (short) resumed run
    info = json.loads((study.out_dir / "study.json").read_text())
    assert info["runs"] >= 2 and info["seconds_total"] >= study.seconds + info["seconds"] - 0.2
    assert f"over {info['runs']} runs of this folder" in again.report.read_text()
    assert main(["experiment", "shimotsu", "--out", str(study.out_dir), "--models", "unet_small_tiny"]) == 2


def test_results_page_checks_the_targets(study, tmp_path, results_page):
    write_results_page = results_page.write_results_page

    log = tmp_path / "shimotsu.log"
    log.write_text("Sun Nov 22 00:00:00 UTC 2026\noocyteseg experiment shimotsu --out Y\n")
    text = write_results_page(tmp_path / "results.md", study.out_dir, None, log, tmp_path / "none.log").read_text()
    assert "Shimotsu et al. Table 2 (theirs: real clinical data)" in text and "| Case10 | 0.99 | 0.78" in text
    assert "mean IoU over oocyte / sERC / needle" in text and "f4 mean relative error" in text
    assert "sERC IoU >= 0.8 in every case" in text and "target >= 0.93 (the paper)" in text
    assert "training time summed over all parts: lraspp_mobilenet_v3_tiny" in text  # from the folds' done.json
    assert "Andreini et al.\n\nNot run" in text
    # a study not re-run keeps its section of the previous page, marked as such
    page = tmp_path / "results.md"
    page.write_text(text.replace("## Andreini et al.\n\nNot run.", "## Andreini et al.: inclusions\n\n| a | 0.5 |"))
    again = write_results_page(page, study.out_dir, None, log, tmp_path / "none.log").read_text()
    assert "## Andreini et al.: inclusions\n\n*Not re-run when this page was regenerated" in again
    assert "| a | 0.5 |" in again and again.count("## Andreini") == 1


def test_results_page_adds_up_the_time_of_resumed_runs(results_page):
    assert results_page.run_time({"seconds": 600.0}) == "Run time 10 min"
    assert results_page.run_time({"seconds": 600.0, "seconds_total": 6000.0, "runs": 1}) == "Run time 10 min"
    assert (results_page.run_time({"seconds": 600.0, "seconds_total": 6000.0, "runs": 3})
            == "Run time 100 min over 3 runs of this folder (the last 10 min)")


def test_results_page_explains_small_serc_misses_from_the_masks(tmp_path, results_page):
    # a fold whose test case has 4 stills with 314.16 sERC pixels each (a disc of radius 10 px)
    test = tmp_path / "cv" / "fold-00" / "test"
    test.mkdir(parents=True)
    cm = [[100, 0, 0, 0], [0, 50, 600, 0], [0, 400, 856.64, 0], [0, 0, 0, 7]]
    (test / "overall.json").write_text(json.dumps({"class_names": ["background", "oocyte", "sERC", "needle"],
                                                   "case_confusion_matrices": {"case04": cm}, "images": 4}))
    (tmp_path / "cv" / "fold-00" / "done.json").write_text(json.dumps({"seconds": 90}))
    sizes = results_page.serc_sizes(tmp_path / "cv")
    assert sizes == {"case04": pytest.approx(10.0, abs=1e-3)}
    assert results_page.fold_minutes(tmp_path / "cv") == pytest.approx(1.5)
    why = results_page._serc_miss_reason({"case04": 0.5}, sizes, [])
    assert "case04 10.0 px" in why and "0.106 r px inwards" in why and "(1.06 / 1.18 native px" in why
    assert results_page._serc_miss_reason({"case09": 0.5}, sizes, []) == ""  # no size known: no reason given


def test_default_models_leave_deeplab_out_only_without_a_gpu():
    from oocyteseg.pipelines.shimotsu import default_models

    assert default_models(True) == (("deeplabv3_resnet50", "unet_effnet_lite0"), None)
    assert default_models(True)[0] == ShimotsuSettings().models
    models, note = default_models(False)
    assert models == ("unet_effnet_lite0",) and "--models deeplabv3_resnet50,unet_effnet_lite0" in note


def test_tip_variant_refines_only_needle_pixels_of_the_saved_predictions(tmp_path):
    """With --tip-steps each fold also trains a tip model on its own training cases, and MODEL+tip is the
    model's saved fold predictions with needle pixels added near the tip (nothing else changes)."""
    import numpy as np

    from oocyteseg.io.images import read_mask
    from oocyteseg.pipelines.shimotsu import fold_predictions, test_rows

    torch.set_num_threads(1)
    s = tiny_settings()
    s.frame_size, s.tip_steps = (144, 208), 2  # frames just larger than the 128x192 tip window
    result = run_shimotsu(tmp_path / "study", s, show_training_progress=False)
    base, tip = result.outcomes
    assert tip.model == "lraspp_mobilenet_v3_tiny+tip"
    assert list(tip.table2["case"]) == ["case01", "case02", "case03", "Average"]
    assert list(tip.table3.index)[-1] == "AVG"
    tip_cv = result.out_dir / "lraspp_mobilenet_v3_tiny+tip" / "cv"
    for index, (train, test) in used_training_cases(tip_cv).items():
        assert test == used_training_cases(base.out_dir / "cv")[index][1] and not set(train) & set(test)
    cfg = (tip_cv / "fold-00" / "config.yaml").read_text()
    assert "- 144\n  - 208" in cfg and "crop_focus: 0.5" in cfg  # native size, crops
    rows = test_rows(result.manifest)
    needle = 3
    for before, after in zip(fold_predictions(base.out_dir / "cv", rows), fold_predictions(tip_cv, rows)):
        changed = before != after
        assert (after[changed] == needle).all()  # only needle pixels are added
    info = json.loads((result.out_dir / "study.json").read_text())
    assert set(info["models"]) == {"lraspp_mobilenet_v3_tiny", "lraspp_mobilenet_v3_tiny+tip"}
    # the Table 2 of the +tip variant scores the refined masks
    from oocyteseg.evaluation.metrics import confusion_matrix, iou_from_confusion

    case = rows["case"] == "case01"
    cm = sum(confusion_matrix(p, read_mask(m), 4).numpy()
             for p, m in zip(fold_predictions(tip_cv, rows[case].reset_index(drop=True)), rows[case]["mask_path"]))
    iou = iou_from_confusion(cm)
    row = tip.table2.set_index("case").loc["case01"]
    for k, name in ((1, "oocyte"), (3, "needle")):
        assert np.isnan(row[name]) and np.isnan(iou[k]) or abs(row[name] - iou[k]) < 1e-6


def test_fold_models_benchmark_reproduces_the_study_and_names_a_missing_checkpoint(study, tmp_path):
    """benchmarks/fold_models.py: the study's own fold model scores as Table 2 does, the same checkpoint
    given as a variant scores alike, and a variant without a checkpoint for a case is a one-line error."""
    import os
    import shutil
    import subprocess
    import sys

    import numpy as np
    import pandas as pd

    root = Path(__file__).resolve().parents[2]
    cv = study.out_dir / "lraspp_mobilenet_v3_tiny" / "cv"
    for fold in sorted(cv.glob("fold-*")):
        (case,) = json.loads((fold / "data.json").read_text())["val_cases"]
        (tmp_path / "same" / case).mkdir(parents=True)
        shutil.copy(fold / "model-last.pt", tmp_path / "same" / case / "model.pt")

    def run(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(root / "benchmarks" / "fold_models.py"), "--study",
                               str(study.out_dir), "--model", "lraspp_mobilenet_v3_tiny", "--threads", "1", *extra],
                              env={**os.environ, "PYTHONPATH": str(root / "src")}, capture_output=True, text=True,
                              timeout=300)

    out = tmp_path / "rows.csv"
    done = run("--variant", f"same={tmp_path}/same/{{case}}/model.pt", "--cases", "case01", "case03",
               "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = pd.read_csv(out)
    assert list(zip(rows["case"], rows["model"])) == [("case01", "study"), ("case01", "same"),
                                                       ("case03", "study"), ("case03", "same")]
    table2 = pd.read_csv(cv / "per_case_iou.csv").set_index("case")
    for r in rows.itertuples():
        for name in ("oocyte", "sERC", "needle"):
            want, got = table2.loc[r.case, name], getattr(r, name)
            assert (np.isnan(want) and np.isnan(got)) or abs(want - got) < 1e-6, (r.case, r.model, name)
    numbers = rows.drop(columns=["case", "model"]).to_numpy(float)
    np.testing.assert_array_equal(numbers[0::2], numbers[1::2])

    missing = run("--variant", f"gone={tmp_path}/nothing/{{case}}.pt", "--cases", "case01")
    assert missing.returncode != 0 and "nothing/case01.pt: no checkpoint for gone on case01" in missing.stderr
    nostudy = subprocess.run([sys.executable, str(root / "benchmarks" / "fold_models.py"), "--study", str(tmp_path),
                              "--cases", "case01"], env={**os.environ, "PYTHONPATH": str(root / "src")},
                             capture_output=True, text=True, timeout=300)
    assert nostudy.returncode != 0 and "no finished Shimotsu study" in nostudy.stderr
    unknown = run("--cases", "case09")
    assert unknown.returncode != 0 and "case09: not a held-out case" in unknown.stderr


def test_tta_variant_scores_each_fold_model_with_flip_tta(study):
    """--tta flip: MODEL+flip is each fold's own model predicting its held-out stills with flip test-time
    augmentation (the same predictions `analyze --tta flip` makes), scored as Table 2 and Table 3; no training."""
    import dataclasses

    import numpy as np

    from oocyteseg.evaluation.metrics import confusion_matrix, iou_from_confusion
    from oocyteseg.inference.predictor import TorchPredictor
    from oocyteseg.io.images import read_image, read_mask
    from oocyteseg.pipelines.shimotsu import fold_predictions, test_rows, tta_variant

    torch.set_num_threads(1)
    (base,) = study.outcomes
    s = dataclasses.replace(tiny_settings(), tta="flip")
    flip = tta_variant(s.models[0], study.manifest, base, s)
    assert flip.model == "lraspp_mobilenet_v3_tiny+flip" and flip.steps == base.steps
    assert list(flip.table2["case"]) == ["case01", "case02", "case03", "Average"]
    assert list(flip.table3.index)[-1] == "AVG"
    flip_cv = study.out_dir / flip.model / "cv"
    assert not list(flip_cv.glob("fold-*/*.pt"))  # nothing trained
    rows = test_rows(study.manifest)
    saved = fold_predictions(flip_cv, rows)
    plain = fold_predictions(base.out_dir / "cv", rows)
    changed = 0
    for case in ("case01", "case02", "case03"):
        index = int(case[-2:]) - 1  # leave-one-case-out over sorted cases: fold k holds out case k+1
        ckpt = base.out_dir / "cv" / f"fold-{index:02d}" / "model-last.pt"
        idx = [i for i, c in enumerate(rows["case"]) if c == case]
        images = [read_image(rows["image_path"][i]) for i in idx]
        expected = TorchPredictor.from_checkpoint(ckpt, device="cpu", tta="flip").predict(images)
        for i, e in zip(idx, expected):
            assert np.array_equal(saved[i], e)
            changed += int(not np.array_equal(saved[i], plain[i]))
        cm = sum(confusion_matrix(saved[i], read_mask(rows["mask_path"][i]), 4).numpy() for i in idx)
        row = flip.table2.set_index("case").loc[case]
        for k, name in ((1, "oocyte"), (2, "sERC"), (3, "needle")):
            assert np.isnan(row[name]) and np.isnan(iou_from_confusion(cm)[k]) or \
                abs(row[name] - iou_from_confusion(cm)[k]) < 1e-6
    assert changed > 0  # the augmentation changed some prediction of the plain fold models
    stamp = (flip_cv / "fold-00" / "test" / "overall.json").stat().st_mtime_ns
    tta_variant(s.models[0], study.manifest, base, s)  # a re-run reuses each fold's evaluation
    assert (flip_cv / "fold-00" / "test" / "overall.json").stat().st_mtime_ns == stamp


def test_fold_ensemble_benchmark_scores_runs_and_their_average_and_checks_the_data(study, tmp_path):
    """benchmarks/fold_ensemble.py: each run's rows are its Table 2; an ensemble of two identical runs predicts
    exactly what one does; runs whose stills differ are refused with a one-line error."""
    import os
    import shutil
    import subprocess
    import sys

    import numpy as np
    import pandas as pd

    root = Path(__file__).resolve().parents[2]
    twin = tmp_path / "twin"
    shutil.copytree(study.out_dir, twin, symlinks=True)

    def run(*studies: Path, out: Path | None = None) -> subprocess.CompletedProcess:
        extra = ["--out", str(out)] if out else []
        return subprocess.run([sys.executable, str(root / "benchmarks" / "fold_ensemble.py"), "--studies",
                               *map(str, studies), "--model", "lraspp_mobilenet_v3_tiny", "--threads", "1",
                               "--cases", "case01", "case03", *extra],
                              env={**os.environ, "PYTHONPATH": str(root / "src")}, capture_output=True, text=True,
                              timeout=300)

    out = tmp_path / "rows.csv"
    done = run(study.out_dir, twin, out=out)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = pd.read_csv(out)
    assert list(rows["model"]) == [study.out_dir.name, "twin", "ensemble of 2"] * 2
    table2 = pd.read_csv(study.out_dir / "lraspp_mobilenet_v3_tiny" / "cv" / "per_case_iou.csv").set_index("case")
    for r in rows.itertuples():
        for name in ("oocyte", "sERC", "needle"):
            want, got = table2.loc[r.case, name], getattr(r, name)
            assert (np.isnan(want) and np.isnan(got)) or abs(want - got) < 1e-6, (r.case, r.model, name)
    numbers = rows.drop(columns=["case", "model"]).to_numpy(float)
    np.testing.assert_array_equal(numbers[0::3], numbers[2::3])
    assert "mean over 2 cases" in done.stdout and "sERC IoU per case" in done.stdout

    manifest = pd.read_csv(twin / "dataset" / "manifest.csv")
    first = twin / "dataset" / manifest.loc[manifest["case"] == "case01", "image"].iloc[0]
    first.write_bytes(first.read_bytes() + b"\0")  # another still at the same path
    refused = run(study.out_dir, twin)
    assert refused.returncode != 0 and "case01's stills differ" in refused.stderr
