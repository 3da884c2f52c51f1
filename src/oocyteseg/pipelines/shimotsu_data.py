"""The Shimotsu study's data: without videos a phantom study (Table 1's image counts, WMV videos, exact masks
drawn as LabelMe polygons), then stills at `fps` and LabelMe -> masks, ending in the dataset manifest.
Every stage is skipped when its outputs exist."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oocyteseg.classes import ICSI
from oocyteseg.data.ingest_frames import extract_frames
from oocyteseg.data.ingest_labelme import ingest_labelme
from oocyteseg.errors import OocytesegError
from oocyteseg.io.labelme import write_labelme
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset
from oocyteseg.progress import ProgressFn as Progress

if TYPE_CHECKING:
    from oocyteseg.pipelines.shimotsu import ShimotsuSettings



def make_phantom_study(out: Path, s: ShimotsuSettings, progress: Progress | None = None) -> tuple[Path, Path]:
    """Render the phantom study: videos/<case>/<case>.wmv and the exact masks of every video frame.

    Returns (videos folder, folder of per-case mask stacks). Cases already rendered are kept.
    """
    videos, stacks = out / "videos", out / "render"
    for i, n_images in enumerate(s.images_per_case()):
        case = f"case{i + 1:02d}"
        target = videos / case / f"{case}.wmv"
        if target.is_file():
            continue
        seconds = n_images / s.fps  # one still per 1/fps seconds, as the frames step samples them
        cfg = PhantomConfig(cases=1, seed=s.seed * 1000 + i, seconds=seconds, fps=s.video_fps, label_fps=s.fps,
                            video_formats=("wmv",), inclusion_images=0, height=s.frame_size[0],
                            width=s.frame_size[1], anatomy=False)  # only the video and mask stack are used
        manifest = make_phantom_dataset(stacks / case, cfg, overwrite=True)
        rendered = manifest.parent / "icsi" / "case01"
        os.replace(rendered / "case01_masks.npz", stacks / case / "masks.npz")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(rendered / "case01.wmv", target)  # last: its presence marks the case as done
        if progress:
            progress("phantom cases", i + 1, s.cases)
    return videos, stacks


def annotate_phantom_frames(frames_dir: Path, stacks: Path, out: Path, progress: Progress | None = None) -> Path:
    """The phantom's "manual annotation": one LabelMe file per extracted still, drawn from its exact mask."""
    table = pd.read_csv(frames_dir / "frames.csv")
    for n, row in enumerate(table.itertuples(index=False)):
        image_path = frames_dir / row.path
        target = out / str(row.case) / f"{image_path.stem}.json"
        if target.is_file():
            continue
        masks = _mask_stack(stacks / str(row.case) / "masks.npz")
        rel = os.path.relpath(image_path, target.parent)
        write_labelme(target, masks[int(row.frame_index)], ICSI, image_path=rel, overwrite=True)
        if progress:
            progress("annotations", n + 1, len(table))
    return out


_STACKS: dict[Path, np.ndarray] = {}


def _mask_stack(path: Path) -> np.ndarray:
    if path not in _STACKS:
        _STACKS.clear()  # one case at a time
        with np.load(path) as data:
            _STACKS[path] = data["masks"]
    return _STACKS[path]


def prepare_dataset(out: Path, s: ShimotsuSettings, videos: Path | None, annotations: Path | None,
                    progress: Progress | None = None) -> Path:
    """Frames at `fps` (issue-3 `frames`) then LabelMe -> masks (issue-3 `labelme`); returns the manifest."""
    manifest = out / "dataset" / "manifest.csv"
    if manifest.is_file():
        return manifest
    stacks = None
    if videos is None:
        if annotations is not None:
            raise OocytesegError("--annotations needs --videos (the frames they annotate)", annotations,
                                 "pass --videos too, or neither for the phantom study")
        videos, stacks = make_phantom_study(out / "source", s, progress)
    frames_dir = out / "frames"
    if not (frames_dir / "frames.csv").is_file():
        result = extract_frames([videos], frames_dir, fps=s.fps, overwrite=True, progress=progress)
        if result.errors:
            raise result.errors[0]
    if annotations is None:
        annotations = annotate_phantom_frames(frames_dir, stacks, out / "source" / "annotations", progress)
    result = ingest_labelme([annotations], "icsi", out / "dataset", overwrite=True, progress=progress)
    if result.table is None:
        raise OocytesegError("no LabelMe file could be read", annotations, "see dataset/failed.csv")
    return result.table
