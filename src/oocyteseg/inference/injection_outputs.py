"""The injection read from every analysed frame of a video (issue #17): per-frame geometry, events, summary.

`analyze_video` feeds each frame's mask, in frame order, to an `InjectionReader` (an
`morphometry.injection.InjectionTracker` when the label set has oocyte and needle roles); at the end
`write` runs `morphometry.injection_events.detect_events` over the table and writes, in the video's
folder, injection.csv (the tracker's table), events.csv (one row per event) and injection.json (summary
and events). The summary is what summary.json holds under `injection` (and summary.csv as `inj_*`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from oocyteseg.classes import LabelSet
from oocyteseg.io.atomic import write_json, write_table
from oocyteseg.inference.summary import clean_json
from oocyteseg.morphometry.shapes import MaskShapes

INJECTION_FILES = ("injection.csv", "events.csv", "injection.json")
NEEDED_ROLES = ("oocyte", "needle")


def reads_injection(labels: LabelSet) -> bool:
    """True when the label set has the roles the injection is read from (oocyte and needle)."""
    return labels.has_roles(*NEEDED_ROLES)


class InjectionReader:
    """Runs the tracker over the frames of one video (when the label set allows) and writes its outputs."""

    def __init__(self, labels: LabelSet, pixel_size_um: float | None, fps: float):
        self.fps = fps
        self.tracker = None
        self.failed: str | None = None
        if reads_injection(labels):  # the injection modules (and scipy.signal) load only when a video is analysed
            from oocyteseg.morphometry.injection import InjectionTracker

            self.tracker = InjectionTracker(labels, pixel_size_um, fps)

    def update(self, frame_index: int, time_s: float, mask: np.ndarray, shapes: MaskShapes | None = None) -> None:
        """One analysed frame (frames must come in order). A failure of the injection reading stops it
        (said in its QC) but never the video's segmentation and features."""
        if self.tracker is not None and self.failed is None:
            try:
                self.tracker.update(frame_index, time_s, mask, shapes)
            except Exception as exc:  # noqa: BLE001 - reported in injection.json / summary.json
                self.failed = f"injection_failed at frame {frame_index}: {type(exc).__name__}: {exc}"

    def write(self, out_dir: Path) -> dict[str, Any]:
        """injection.csv, events.csv and injection.json in out_dir; returns the summary for summary.json
        (`{"qc": "no_needle_class"}` and no files when the label set has no oocyte or needle class)."""
        if self.tracker is None:
            return {"qc": "no_needle_class"}
        from oocyteseg.morphometry.injection_events import InjectionReading, detect_events

        table = self.tracker.table()
        try:
            reading = detect_events(table, self.fps) if self.failed is None else InjectionReading()
        except Exception as exc:  # noqa: BLE001 - reported in injection.json / summary.json
            self.failed, reading = f"injection_failed: {type(exc).__name__}: {exc}", InjectionReading()
        if self.failed is not None:
            reading.summary = {"mode": "unknown", "qc": self.failed}
        write_table(table, out_dir / "injection.csv")
        write_table(reading.events_frame(), out_dir / "events.csv")
        write_json(out_dir / "injection.json", clean_json(reading.to_dict()))
        return clean_json(dict(reading.summary))
