"""Write the results page (docs/results.md): both studies' tables as the commands produced them, next to the
seed papers' published numbers, with the project's phantom targets checked (met, or missed by how much).

Inputs are finished run folders of `oocyteseg experiment shimotsu` and `... andreini` and their logs
(first line `date -u`, second line the exact command). Hand-written notes between the NOTES markers of
an existing page are kept when the page is regenerated.

Run (what `make results` does):
    .venv/bin/python scripts/results_page.py --shimotsu runs/results/shimotsu --andreini runs/results/andreini \
        --out docs/results.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
from collections.abc import Collection, Sequence
from pathlib import Path

import pandas as pd
import yaml

from oocyteseg.evaluation.metrics import iou_from_confusion
from oocyteseg.evaluation.tables import table_to_markdown
from oocyteseg.io.atomic import write_text
from oocyteseg.morphometry.compare import case_table, table_markdown
from oocyteseg.pipelines.andreini import PAPER_TABLE2, finished_confusions
from oocyteseg.pipelines.shimotsu_report import PAPER_TABLE3_AVG

NOTES_BEGIN, NOTES_END = "<!-- NOTES: kept when the page is regenerated -->", "<!-- END NOTES -->"
# Targets of the phantom studies: the paper's mean IoU (stretch 0.95), sERC IoU >= 0.80 in every case with
# an sERC, feature errors at or below the paper's (stretch: half), inclusion IoU >= 0.80.
TARGET_MIOU, STRETCH_MIOU, TARGET_SERC_IOU, TARGET_INCLUSION_IOU = 0.93, 0.95, 0.80, 0.80
FEATURE_FRACTION, STRETCH_FEATURE_FRACTION = 1.0, 0.5

# Shimotsu et al. Table 2 (IoU per case, real clinical data, DeepLab ResNet-50).
PAPER_SHIMOTSU_TABLE2 = [
    ("Case1", 0.99, 0.94, 0.95, 0.96), ("Case2", 0.99, 0.97, 0.80, 0.92), ("Case3", 0.96, 0.77, 0.93, 0.89),
    ("Case4", 0.99, 0.93, 0.94, 0.95), ("Case5", 0.99, 0.92, 0.86, 0.92), ("Case6", 0.99, 0.94, 0.90, 0.94),
    ("Case7", 0.99, 0.86, 0.92, 0.92), ("Case8", 0.95, 0.88, 0.91, 0.91), ("Case9", 0.99, 0.95, 0.94, 0.94),
    ("Case10", 0.99, 0.78, 0.96, 0.91), ("Case11", 0.96, 0.95, 0.92, 0.94), ("Average", 0.98, 0.90, 0.91, 0.93)]


def machine() -> str:
    """nproc, CPU model and RAM of this machine, one line."""
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown CPU")
    kb = next((int(line.split()[1]) for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores (nproc), {cpu}, {kb / 1024 ** 2:.1f} GiB RAM, no GPU used"


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def log_header(log: Path) -> tuple[str, str]:
    """(date line, command line) of a run log written as `date -u; echo CMD; CMD`."""
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return (lines[0] if lines else "unknown date", lines[1] if len(lines) > 1 else "unknown command")


def _verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    if math.isnan(value):
        return "not measurable (NaN: undefined on the automatic masks, e.g. no sERC or needle predicted)"
    ok = value >= target if higher_is_better else value <= target
    return "**met**" if ok else f"**missed** by {abs(value - target):.3f}"


def serc_sizes(cv_dir: Path) -> dict[str, float]:
    """case -> mean sERC size in its manual masks, as the radius (native px) of a disc of equal area: the case's
    sERC pixels (row of the test confusion matrix) over its stills."""
    sizes = {}
    for overall in sorted(cv_dir.glob("fold-*/test/overall.json")):
        info = json.loads(overall.read_text())
        serc = info["class_names"].index("sERC") if "sERC" in info["class_names"] else None
        cases = info.get("case_confusion_matrices") or {}
        if serc is None or len(cases) != 1:
            continue
        (case, cm), = cases.items()
        sizes[case] = math.sqrt(sum(cm[serc]) / max(1, int(info["images"])) / math.pi)
    return sizes


def run_time(info: dict) -> str:
    """Wall time of a study folder: all `--resume` runs added up where the study recorded them."""
    runs = int(info.get("runs") or 1)
    if runs > 1 and "seconds_total" in info:
        return (f"Run time {info['seconds_total'] / 60:.0f} min over {runs} runs of this folder (the last "
                f"{info['seconds'] / 60:.0f} min)")
    return f"Run time {info['seconds'] / 60:.0f} min"


def fold_minutes(cv_dir: Path) -> float:
    """Training minutes of a study's folds as each fold recorded them (all parts of a resumed study)."""
    return sum(json.loads(p.read_text()).get("seconds", 0) for p in cv_dir.glob("fold-*/done.json")) / 60


def _serc_miss_reason(low: dict[str, float], sizes: dict[str, float], met: list[str]) -> str:
    """Why the small cases miss, from the masks: their sERC size and the boundary error a disc that size allows."""
    if not low or not all(c in sizes for c in low):
        return ""
    inward, outward = 1 - math.sqrt(TARGET_SERC_IOU), 1 / math.sqrt(TARGET_SERC_IOU) - 1
    missed = ", ".join(f"{c} {sizes[c]:.1f} px" for c in low)
    met_r = [sizes[c] for c in met if c in sizes]
    tail = f"; in the cases that meet it {min(met_r):.1f}-{max(met_r):.1f} px" if met_r else ""
    smallest = min(sizes[c] for c in low)
    return (f". Why (measured on the manual masks): the sERC's mean size per still, as the radius of a disc of "
            f"equal area, is {missed} in the missed cases{tail}. A disc of radius r falls below IoU "
            f"{TARGET_SERC_IOU} once its whole boundary is off by {inward:.3f} r px inwards or {outward:.3f} r px "
            f"outwards ({inward * smallest:.2f} / {outward * smallest:.2f} native px for the smallest)")


def shimotsu_section(study: Path, log: Path) -> str:
    """Our Table 2 and Table 3 forms per model, the paper's next to them, and the target checks."""
    date, command = log_header(log)
    info = json.loads((study / "study.json").read_text())
    trained = [m for m in info["models"] if "+" not in m]  # "MODEL+flip" / "MODEL+tip" reuse MODEL's folds
    parts = ["## Shimotsu et al.: sERC / oocyte / needle, leave-one-case-out", "",
             f"Command (started {date}): `{command}`  ", f"{run_time(info)}; training time summed over all parts: "
             + "; ".join(f"{m} {fold_minutes(study / m / 'cv'):.0f} min" for m in trained)
             + f"; {info['steps']} training steps per fold (the paper: 25,000). Log: `docs/logs/{log.name}`.", ""]
    paper2 = pd.DataFrame(PAPER_SHIMOTSU_TABLE2, columns=["case", "oocyte", "sERC", "needle", "Average"])
    for model in info["models"]:
        t2 = pd.read_csv(study / model / "cv" / "per_case_iou.csv")
        per_frame = pd.read_csv(study / model / "features" / "per_frame.csv", dtype={"case": str})
        t3 = case_table(per_frame, "rel")
        miou = float(t2.loc[t2["case"] == "Average", "Average"].iloc[0])
        checks = [f"- mean IoU over oocyte / sERC / needle (Average row) {miou:.3f} vs target >= {TARGET_MIOU} (the "
                  f"paper): {_verdict(miou, TARGET_MIOU)}; stretch >= {STRETCH_MIOU}: {_verdict(miou, STRETCH_MIOU)}"]
        serc = t2[t2["case"] != "Average"].set_index("case")["sERC"].astype(float).dropna()
        low = {c: v for c, v in serc.items() if v < TARGET_SERC_IOU}
        checks.append(f"- sERC IoU >= {TARGET_SERC_IOU} in every case that has an sERC: "
                      + ("**met**" if not low else f"**missed** in {len(low)} of {len(serc)} cases ("
                         + ", ".join(f"{c} {v:.3f}" for c, v in low.items()) + ")"
                         + _serc_miss_reason(low, serc_sizes(study / model.split("+")[0] / "cv"),
                                             [c for c in serc.index if c not in low])))
        for f, (paper_avg, _) in PAPER_TABLE3_AVG.items():
            ours = float(t3.loc["AVG", (f"{f} [%]", "AVG")])
            limit, stretch = FEATURE_FRACTION * paper_avg, STRETCH_FEATURE_FRACTION * paper_avg
            checks.append(f"- {f} mean relative error {ours:.2f} % vs target <= {limit:.2f} % (the paper): "
                          f"{_verdict(ours, limit, higher_is_better=False)}; stretch <= {stretch:.2f} % (half): "
                          f"{_verdict(ours, stretch, higher_is_better=False)}")
        tip = info["models"][model].get("tip_error_px") or {}
        if tip.get("n"):
            checks.append(f"- needle tip, automatic vs manual mask: median {tip['median']:.2f} px, mean "
                          f"{tip['mean']:.2f} px, 90th percentile {tip['p90']:.2f} px ({tip['n']} stills; "
                          f"{tip['one_sided']} with a tip in one mask only)")
        about = []
        if model.endswith("+tip"):
            about = [f"The fold predictions above with each needle tip given a second look (`--tip-steps`, as "
                     f"`analyze --tip-model` does): per fold, a tip model trained "
                     f"{info['settings'].get('tip_steps')} steps on native-resolution crops of that fold's training "
                     f"cases only adds the needle pixels it finds around the tip (`inference/tip_refine.py`).", ""]
        if model.endswith("+flip"):
            about = ["The same fold models, each image also segmented left-right flipped and the two logit "
                     "maps averaged (`--tta flip`, as `analyze --tta flip` and `evaluate --tta flip` do); no "
                     "training.", ""]
        parts += [f"### {model}: ours (phantom data)", "", *about,
                  table_to_markdown(t2, title="Ours, Table 2 form: IoU per case (each case tested by the fold "
                                    "that held it out)"),
                  table_to_markdown(paper2, title="Shimotsu et al. Table 2 (theirs: real clinical data)"),
                  "**Ours, Table 3 form: relative error |A - M| / M x 100 of the features, automatic vs manual "
                  "(LabelMe) masks (%)**", "", table_markdown(t3), "",
                  "**Shimotsu et al. Table 3, AVG row (theirs: real clinical data)**: "
                  + "; ".join(f"{f} {a:.2f} (SD {b:.2f})" for f, (a, b) in PAPER_TABLE3_AVG.items()), "",
                  "Targets (phantom):", "", *checks, ""]
    return "\n".join(parts)


def gan_lines(exp: Path, info: dict) -> list[str]:
    """The GAN's upsampling, where its label maps put the spots, and the checkerboard share of its images (runs
    written before these were recorded say so instead of guessing)."""
    config = exp / "gan" / "config.yaml"
    upsample = yaml.safe_load(config.read_text()).get("generator", {}).get("upsample", "transpose") \
        if config.is_file() else "not recorded"
    spots = info["settings"].get("spots", "anywhere")
    board = info.get("checkerboard")
    share = (f"synthetic {board['synthetic']:.1e} against {board['real']:.1e} for the real training images"
             if board else "not measured in this run")
    return [f"GAN generator upsampling: `{upsample}`; label-map spots: `{spots}` (`--spots`); checkerboard share "
            f"(spectral power at the period-2 frequencies, `synth.quality.checkerboard_energy`): {share}.", ""]


def andreini_section(exp: Path, log: Path) -> str:
    """Our three-regime table, the paper's, per-class IoU and the inclusion-IoU target check."""
    date, command = log_header(log)
    info = json.loads((exp / "experiment.json").read_text())
    ours = pd.read_csv(exp / "regimes.csv")
    per_class = exp / "per_class_iou.csv"
    if per_class.is_file():
        classes = pd.read_csv(per_class)
    else:  # folders written before per_class_iou.csv existed: evaluate the three models again
        cms = finished_confusions(exp)
        classes = pd.DataFrame([{"Trained on": k, "background": iou_from_confusion(cm)[0],
                                 "inclusion": iou_from_confusion(cm)[1]} for k, cm in cms.items()])
    paper = pd.DataFrame([{"Trained on": k, "Accuracy": a, "Mean IoU": m} for k, (a, m) in PAPER_TABLE2.items()])
    checks = [f"- {r['Trained on']}: inclusion IoU {r['inclusion']:.3f} vs target >= {TARGET_INCLUSION_IOU}: "
              f"{_verdict(float(r['inclusion']), TARGET_INCLUSION_IOU)}" for _, r in classes.iterrows()]
    s = info["settings"]
    return "\n".join([
        f"## Andreini et al.: inclusions, real vs synthetic vs synthetic + fine-tuning (`{s['model']}`)", "",
        f"Command (started {date}): `{command}`  ",
        f"{run_time(info)}; model `{s['model']}`, {info['steps']} steps per regime; GAN "
        f"{info['gan_steps']} steps on the {s['n_train']} training images only; {info['synthetic_images']} synthetic "
        f"images; {s['n_test']} real test images. Log: `docs/logs/{log.name}`.", "",
        *gan_lines(exp, info),
        table_to_markdown(ours, digits=4, title="Ours (phantom close-ups), Table 2 form"),
        table_to_markdown(paper, digits=4, title="Andreini et al. Table 2 (theirs: real microscope images, SMANet)"),
        table_to_markdown(classes, digits=3, title="Ours: IoU per class on the test images"),
        "Targets (phantom):", "", *checks, "",
        "Sample grid (label map | generated | nearest real training image): `samples.png` in the run folder "
        f"(a copy of the committed run's grid: `docs/logs/{log.stem}-samples.png`).", ""])


def _section_model(body: str) -> str | None:
    """The model a section's heading names as "(`name`)", else the first "model `name`" of its text (pages
    written before headings named it), else None."""
    found = re.search(r"\(`([^`]+)`\)\s*$", body.partition("\n")[0]) or re.search(r"\bmodel `([^`]+)`", body)
    return found.group(1) if found else None


def _kept_section(page: Path, heading: str, rerun_models: Collection[str] | None = None) -> str | None:
    """The sections of the existing page whose heading starts with `heading` (each up to the next '## '), marked
    as kept from an earlier run, for a study that was not re-run this time; None when there are none. With
    `rerun_models`, only sections whose heading names another model are kept (the others were re-run)."""
    if not page.is_file():
        return None
    text = page.read_text()
    marker = "*Not re-run when this page was regenerated: this section is kept from the page's previous version"
    kept, start = [], text.find(heading)
    while start >= 0:
        end = text.find("\n## ", start + len(heading))
        body = text[start:end if end >= 0 else len(text)].rstrip()
        if marker not in body:
            first, _, rest = body.partition("\n")
            body = (f"{first}\n\n{marker} (the run, its command and its log are as stated below; the code has "
                    f"changed since).*\n{rest}")
        model = _section_model(body)
        if rerun_models is None or (model is not None and model not in rerun_models):
            kept.append(body + "\n")
        start = text.find(heading, end) if end >= 0 else -1
    return "\n".join(kept) or None


def _kept_notes(path: Path) -> str:
    if path.is_file():
        text = path.read_text()
        if NOTES_BEGIN in text and NOTES_END in text:
            return text[text.index(NOTES_BEGIN):text.index(NOTES_END) + len(NOTES_END)]
    return f"{NOTES_BEGIN}\n{NOTES_END}"


def _paths(value: str | os.PathLike | Sequence[str | os.PathLike] | None) -> list[Path]:
    if value is None:
        return []
    return [Path(value)] if isinstance(value, (str, os.PathLike)) else [Path(v) for v in value]


def write_results_page(out: str | os.PathLike, shimotsu: str | os.PathLike | None,
                       andreini: str | os.PathLike | Sequence[str | os.PathLike] | None,
                       shimotsu_log: str | os.PathLike,
                       andreini_log: str | os.PathLike | Sequence[str | os.PathLike]) -> Path:
    """Regenerate the results page from finished run folders (either may be None when it did not run). `andreini`
    may name several runs (e.g. one per model), each with its log at the same place in `andreini_log`."""
    import datetime as dt

    out = Path(out)
    now = dt.datetime.now(dt.timezone.utc)
    parts = ["# Results: both seed studies reproduced on phantom data", "",
             f"Page generated {now:%Y-%m-%d %H:%M} UTC by `scripts/results_page.py`; machine: {machine()}.",
             "Every number below was produced by the command shown with it. **Ours are phantom data** (procedural "
             "images with exact masks), **theirs are the seed papers' real clinical images**: the comparison checks "
             "the software, not clinical validity.", ""]
    parts.append(shimotsu_section(Path(shimotsu), Path(shimotsu_log)) if shimotsu and
                 (Path(shimotsu) / "study.json").is_file() else "## Shimotsu et al.\n\nNot run (no finished study).\n")
    runs, logs = _paths(andreini), _paths(andreini_log)
    if runs and len(runs) != len(logs):
        raise SystemExit(f"{len(runs)} Andreini run folder(s) but {len(logs)} log(s): give one --andreini-log "
                         "per --andreini, in the same order")
    done = [(r, g) for r, g in zip(runs, logs) if (r / "experiment.json").is_file()]
    if done:
        parts += [andreini_section(r, g) for r, g in done]
        models = [json.loads((r / "experiment.json").read_text())["settings"]["model"] for r, _ in done]
        other = _kept_section(out, "## Andreini et al.", rerun_models=models)  # runs of other models: kept
        if other:
            parts.append(other)
    else:
        parts.append(_kept_section(out, "## Andreini et al.") or "## Andreini et al.\n\nNot run.\n")
    parts += ["## Notes", "", _kept_notes(out), ""]
    return write_text(out, "\n".join(parts), overwrite=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", "-o", type=Path, default=Path("docs/results.md"), help="Markdown page to (re)write")
    parser.add_argument("--shimotsu", type=Path, help="finished `oocyteseg experiment shimotsu` folder")
    parser.add_argument("--andreini", type=Path, action="append",
                        help="finished `oocyteseg experiment andreini` folder (repeatable: one section per run)")
    parser.add_argument("--shimotsu-log", type=Path, default=Path("docs/logs/shimotsu.log"), help="its run log")
    parser.add_argument("--andreini-log", type=Path, action="append",
                        help="its run log (one per --andreini, same order; default docs/logs/andreini.log)")
    a = parser.parse_args(argv)
    if a.andreini and not a.andreini_log:
        a.andreini_log = [Path("docs/logs/andreini.log")]
    page = write_results_page(a.out, a.shimotsu, a.andreini, a.shimotsu_log, a.andreini_log)
    print(f"results page: {page}")


if __name__ == "__main__":
    main()
