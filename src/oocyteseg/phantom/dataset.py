"""Write a phantom data set: ICSI videos (MP4 + WMV) with exact per-frame masks, annotated stills
with LabelMe JSON, 256x256 inclusion close-ups, and a manifest listing every file with its case.

Each annotated still is labelled twice: in the `icsi` label set (icsi/<case>/masks, frames/*.json)
and, unless `anatomy` is off, in the `oocyte-anatomy` label set (anatomy/<case>/<stem>_anatomy.png and
.json); the manifest's `labelset` column tells the rows apart, both point at the same still image.

With `responses` (breakage modes, issue #17) each case gets a mode (cycling through `responses` in case
order), its videos and stills are labelled in `icsi-injection` (ICSI plus the polar body), and
icsi/<case>/<case>_injection.csv (per frame) and <case>_injection.json (mode, events, polar-body angle) hold
the ground truth (`phantom.truth`).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from oocyteseg.classes import ICSI, ICSI_INJECTION, INCLUSIONS, OOCYTE_ANATOMY, LabelSet
from oocyteseg.errors import OocytesegError
from oocyteseg.injection_modes import MODES
from oocyteseg.io.atomic import atomic_path, check_writable, write_json, write_table
from oocyteseg.io.images import write_image, write_mask
from oocyteseg.io.labelme import mask_to_labelme
from oocyteseg.io.video import VideoWriter
from oocyteseg.phantom.inclusions import render_closeup
from oocyteseg.phantom.params import CaseParams, sample_case
from oocyteseg.phantom.render import anatomy_mask, render_frame, video_labels
from oocyteseg.phantom.truth import injection_truth
from oocyteseg.progress import ProgressFn as Progress

MANIFEST_COLUMNS = ["case", "video", "frame_index", "time_s", "image", "mask", "source", "labelset",
                    "width", "height", "labelme"]



@dataclass
class PhantomConfig:
    """What to render. Sizes in pixels, durations in seconds."""

    cases: int = 6
    seed: int = 0
    seconds: float | None = None  # None: 4 s, or 8 s with `responses` (room for the whole procedure at 24 fps)
    fps: float = 24.0
    label_fps: float = 1.0  # annotated stills per second of video (the Shimotsu study used 1)
    height: int = 480
    width: int = 640
    video_formats: tuple[str, ...] = ("mp4", "wmv")
    video_cases: tuple[str, ...] | None = None  # the cases that get videos (None: all; the others get stills only)
    inclusion_images: int = 26  # Andreini: 18 training + 8 test images
    inclusion_size: int = 256
    anatomy: bool = True  # also label each still in the oocyte-anatomy label set (cheap: stills only)
    responses: tuple[str, ...] = ()  # breakage modes given to the cases in turn; () = the needle without modes

    def __post_init__(self) -> None:
        self.responses = tuple(self.responses)
        if self.video_cases is not None:
            self.video_cases = tuple(self.video_cases)
        if self.seconds is None:
            self.seconds = 8.0 if self.responses else 4.0

    def validate(self) -> None:
        bad = [m for m in self.responses if m not in MODES]
        if bad:
            raise OocytesegError(f"unknown breakage mode(s) {', '.join(bad)}; valid: {', '.join(MODES)} or all")
        if self.cases < 0 or self.inclusion_images < 0:
            raise OocytesegError("--cases and --inclusion-images must be >= 0")
        ids = [f"case{i + 1:02d}" for i in range(self.cases)]
        unknown = sorted(set(self.video_cases or ()) - set(ids))
        if unknown:
            raise OocytesegError(f"video cases {', '.join(unknown)} are not among the {self.cases} cases",
                                 fix=f"name cases from {ids[0]} to {ids[-1]}" if ids else "render some cases")
        if self.seconds <= 0 or self.fps <= 0 or not 0 < self.label_fps <= self.fps:
            raise OocytesegError("need seconds > 0, fps > 0 and 0 < label-fps <= fps")
        if self.height % 2 or self.width % 2 or self.height < 64 or self.width < 64:
            raise OocytesegError("height and width must be even and >= 64 (video codecs need even sizes)")
        bad = set(self.video_formats) - {"mp4", "wmv", "avi", "mov"}
        if bad:
            raise OocytesegError(f"unknown video format(s) {sorted(bad)}; valid: mp4, wmv, avi, mov")


def parse_responses(text: str) -> tuple[str, ...]:
    """`--responses` text: '' (none), 'all' (every mode) or comma-separated modes (checked by `validate`)."""
    text = text.strip()
    return MODES if text == "all" else tuple(m.strip() for m in text.split(",") if m.strip())


def case_seed(seed: int, index: int) -> int:
    """Seed of case `index` in a data set seeded with `seed` (cases are independent draws)."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def make_phantom_dataset(out: str | os.PathLike, config: PhantomConfig | None = None, *,
                         overwrite: bool = False, progress: Progress | None = None) -> Path:
    """Render the whole phantom data set into `out`; returns the manifest path."""
    cfg = config or PhantomConfig()
    cfg.validate()
    out = Path(out)
    manifest_path = check_writable(out / "manifest.csv", overwrite)
    rows: list[dict] = []
    videos: list[dict] = []
    cases: list[dict] = []
    n_frames = int(round(cfg.seconds * cfg.fps))
    step = max(1, int(round(cfg.fps / cfg.label_fps)))
    for ci in range(cfg.cases):
        case_id = f"case{ci + 1:02d}"
        mode = cfg.responses[ci % len(cfg.responses)] if cfg.responses else None
        params = sample_case(case_seed(cfg.seed, ci), case_id, cfg.height, cfg.width, response=mode)
        rows += _write_case(out, params, cfg, n_frames, step, videos, overwrite, progress)
        cases.append({"case": case_id, "polar_body": params.oocyte.polar_body is not None,
                      "serc": params.serc is not None, "mode": mode})
    for i in range(cfg.inclusion_images):
        image, mask, spots = render_closeup(case_seed(cfg.seed + 1_000_003, i), cfg.inclusion_size)
        name = f"incl{i + 1:03d}"
        img_rel, mask_rel = f"inclusions/images/{name}.png", f"inclusions/masks/{name}.png"
        write_image(out / img_rel, image, overwrite)
        write_mask(out / mask_rel, mask, list(INCLUSIONS.colors), overwrite)
        write_json(out / f"inclusions/spots/{name}.json",
                   [{"x": s.x, "y": s.y, "diameter": s.diameter} for s in spots], overwrite)
        rows.append({"case": name, "video": "", "frame_index": -1, "time_s": float("nan"), "image": img_rel,
                     "mask": mask_rel, "source": "phantom", "labelset": INCLUSIONS.name,
                     "width": cfg.inclusion_size, "height": cfg.inclusion_size, "labelme": ""})
        if progress:
            progress("inclusions", i + 1, cfg.inclusion_images)
    write_table(pd.DataFrame(videos, columns=["case", "video", "masks", "frames", "fps", "seconds", "width",
                                              "height"]), out / "videos.csv", overwrite=True)
    classes = (ICSI_INJECTION if cfg.responses else ICSI).classes
    write_json(out / "phantom.json", {"config": asdict(cfg), "classes": list(classes), "cases": cases}, overwrite=True)
    write_table(pd.DataFrame(rows, columns=MANIFEST_COLUMNS), manifest_path, overwrite=True)
    return manifest_path


def _write_case(out: Path, params: CaseParams, cfg: PhantomConfig, n_frames: int, step: int, videos: list[dict],
                overwrite: bool, progress: Progress | None) -> list[dict]:
    case_id = params.case_id
    case_dir = out / "icsi" / case_id
    rows: list[dict] = []
    anatomy_rows: list[dict] = []
    labels = video_labels(params)
    if params.response is not None:
        frames, summary = injection_truth(params, n_frames, cfg.fps, cfg.seconds)
        write_table(frames, case_dir / f"{case_id}_injection.csv", overwrite=overwrite)
        write_json(case_dir / f"{case_id}_injection.json", summary, overwrite)

    def still(i: int, image: np.ndarray, mask: np.ndarray) -> None:
        rows.append(_write_still(out, case_dir, case_id, i, i / cfg.fps, image, mask, labels, overwrite))
        if cfg.anatomy:
            anatomy = anatomy_mask(params, i / max(1, n_frames - 1), duration_s=cfg.seconds, frame_index=i)
            anatomy_rows.append(_write_anatomy(out, rows[-1], anatomy, overwrite))

    if not cfg.video_formats or (cfg.video_cases is not None and case_id not in cfg.video_cases):
        # stills only: render just the annotated frames
        for i in range(0, n_frames, step):
            image, mask = render_frame(params, i / max(1, n_frames - 1), duration_s=cfg.seconds, frame_index=i)
            still(i, image, mask)
            if progress:
                progress(case_id, min(i + step, n_frames), n_frames)
        return rows + anatomy_rows
    masks = np.zeros((n_frames, cfg.height, cfg.width), np.uint8)
    writers = [VideoWriter(case_dir / f"{case_id}.{fmt}", fps=cfg.fps, overwrite=overwrite)
               for fmt in cfg.video_formats]
    for w in writers:
        w.__enter__()
    try:
        for i in range(n_frames):
            u = i / max(1, n_frames - 1)
            image, mask = render_frame(params, u, duration_s=cfg.seconds, frame_index=i)
            masks[i] = mask
            for w in writers:
                w.write(image)
            if i % step == 0:
                still(i, image, mask)
            if progress:
                progress(case_id, i + 1, n_frames)
    except BaseException as exc:
        for w in writers:
            w.__exit__(type(exc), exc, None)
        raise
    for w in writers:
        w.__exit__(None, None, None)
    masks_rel = f"icsi/{case_id}/{case_id}_masks.npz"
    with atomic_path(out / masks_rel, overwrite) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, masks=masks, classes=np.array(labels.classes))
    video_rel = f"icsi/{case_id}/{case_id}.{cfg.video_formats[0]}"
    videos.append({"case": case_id, "video": video_rel, "masks": masks_rel, "frames": n_frames, "fps": cfg.fps,
                   "seconds": cfg.seconds, "width": cfg.width, "height": cfg.height})
    rows += anatomy_rows
    for row in rows:
        row["video"] = video_rel
    return rows


def _write_still(out: Path, case_dir: Path, case_id: str, index: int, time_s: float, image: np.ndarray,
                 mask: np.ndarray, labels: LabelSet, overwrite: bool) -> dict:
    stem = f"{case_id}_f{index:05d}_t{time_s:08.3f}"
    img_rel = (case_dir / "frames" / f"{stem}.png").relative_to(out)
    mask_rel = (case_dir / "masks" / f"{stem}.png").relative_to(out)
    json_rel = (case_dir / "frames" / f"{stem}.json").relative_to(out)
    write_image(out / img_rel, image, overwrite)
    write_mask(out / mask_rel, mask, list(labels.colors), overwrite)
    write_json(out / json_rel, mask_to_labelme(mask, labels, f"{stem}.png"), overwrite)
    h, w = mask.shape
    return {"case": case_id, "video": "", "frame_index": index, "time_s": round(time_s, 6),
            "image": str(img_rel), "mask": str(mask_rel), "source": "phantom", "labelset": labels.name,
            "width": w, "height": h, "labelme": str(json_rel)}


def _write_anatomy(out: Path, icsi_row: dict, mask: np.ndarray, overwrite: bool) -> dict:
    """Write a still's anatomy mask and LabelMe JSON; returns its manifest row (same image as `icsi_row`)."""
    image_rel = Path(icsi_row["image"])
    folder = Path("anatomy") / icsi_row["case"]
    mask_rel, json_rel = folder / f"{image_rel.stem}_anatomy.png", folder / f"{image_rel.stem}_anatomy.json"
    write_mask(out / mask_rel, mask, list(OOCYTE_ANATOMY.colors), overwrite)
    rel_image = os.path.relpath(out / image_rel, (out / json_rel).parent)
    write_json(out / json_rel, mask_to_labelme(mask, OOCYTE_ANATOMY, Path(rel_image).as_posix()), overwrite)
    return {**icsi_row, "mask": str(mask_rel), "labelset": OOCYTE_ANATOMY.name, "labelme": str(json_rel)}
