"""The HTML report's "Injection" section of one video (issue #17): the per-procedure summary, a timeline
figure (funnel depth and penetration against time with the events marked) and key-frame thumbnails.

Reads what `analyze` wrote in the video's folder: injection.csv, events.csv and summary.json's `injection`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from oocyteseg.injection_modes import MODE_TEXT
from oocyteseg.io.video import iter_frames
from oocyteseg.reports import figures
from oocyteseg.reports.html import esc, fmt, jpeg_img, png_img, table_html
from oocyteseg.reports.overlay_video import OVERLAY_FILE

KEY_EVENTS = ("contact", "max_funnel", "breakage", "injection", "withdrawal")
PHANTOM_NOTE = ("On the phantom these measures test the software (does it find the events the renderer put "
                "there?), not clinical validity: the breakage modes follow Nagy et al. 1995 and Danfour &amp; "
                "Elmahaishi 2010, whose outcome figures come from real oocytes.")


def read_events(folder: Path) -> pd.DataFrame:
    """events.csv of an analysed video (columns name, frame, time_s, confidence); empty when absent."""
    path = folder / "events.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["name", "frame", "time_s", "confidence"])
    return pd.read_csv(path)


def summary_rows(summary: dict) -> pd.DataFrame:
    """The per-procedure summary as a two-column table in the clinical wording."""
    mode = summary.get("mode") or "unknown"
    um = summary.get("funnel_depth_at_breakage_um")
    depth = fmt(summary.get("funnel_depth_at_breakage_px"), 1) + (f" px ({fmt(um, 1)} µm)" if um is not None else " px")
    clock = summary.get("polar_body_clock")
    angle = summary.get("polar_body_angle_deg")
    pb = (f"{fmt(angle, 0)}° from the injection axis ({fmt(clock, 1)} o'clock)" if angle is not None
          else "not measured")
    rows = {"breakage mode": f"{MODE_TEXT.get(mode, summary.get('mode_text') or mode)} [{mode}]",
            "funnel depth at breakage": depth,
            "maximum funnel depth": fmt(summary.get("max_funnel_depth_px"), 1) + " px",
            "contact → breakage": fmt(summary.get("contact_to_breakage_s"), 2) + " s",
            "breakage attempts": fmt(summary.get("attempts")),
            "recovery fraction (1 = full)": fmt(summary.get("recovery_fraction"), 2),
            "recovery time": fmt(summary.get("recovery_time_s"), 2) + " s",
            "polar body": pb,
            "QC": summary.get("qc") or "ok"}
    return pd.DataFrame({"value": list(rows.values())}, index=list(rows))


def _key_frames(folder: Path, video: str, features: pd.DataFrame, events: pd.DataFrame) -> str:
    """Thumbnails of the key events, from overlay.mp4 (frame k = the k-th analysed frame) or the video."""
    wanted: dict[int, list[str]] = {}
    for _, ev in events[events["name"].isin(KEY_EVENTS)].iterrows():
        if not (isinstance(ev["frame"], int | float) and math.isfinite(float(ev["frame"]))):
            continue
        wanted.setdefault(int(ev["frame"]), []).append(f"{ev['name']} · frame {int(ev['frame'])} · "
                                                        f"{float(ev['time_s']):.2f} s")
    if not wanted:
        return '<p class="note">No key events found: no thumbnails.</p>'
    overlay = folder / OVERLAY_FILE
    if overlay.is_file() and "frame_index" in features:  # overlay frames are the analysed frames in order
        position = {int(f): k for k, f in enumerate(features["frame_index"])}
        by_read = {position[f]: f for f in wanted if f in position}
        source = overlay
    elif Path(video).is_file():
        by_read, source = {f: f for f in wanted}, Path(video)
    else:
        return '<p class="note">Neither overlay.mp4 nor the video is readable: no thumbnails.</p>'
    items = []
    for frame in iter_frames(source):
        if frame.index in by_read:
            caption = "; ".join(wanted[by_read[frame.index]])
            items.append(f"<figure>{jpeg_img(frame.image, caption)}<figcaption>{esc(caption)}</figcaption></figure>")
        if not by_read or frame.index >= max(by_read):
            break
    return f'<div class="thumbs">{"".join(items)}</div>'


def injection_section(name: str, folder: Path, summary: dict, features: pd.DataFrame) -> str:
    """The "Injection" section of one video's part of the report ("" when the analysis did not read one)."""
    injection = summary.get("injection") or {}
    table_path = folder / "injection.csv"
    if not injection or not table_path.is_file():
        reason = injection.get("qc") if injection else ""
        return (f'<h3>Injection</h3><p class="note">Not read ({esc(reason)}).</p>' if reason else "")
    table, events = pd.read_csv(table_path), read_events(folder)
    shown = events[["name", "frame", "time_s", "confidence"]].copy() if len(events) else events
    return "\n".join([
        "<h3>Injection</h3>", f'<p class="note">{PHANTOM_NOTE}</p>',
        table_html(summary_rows(injection), 2),
        png_img(figures.injection_timeline(table, events, f"{name}: injection timeline"), f"{name} injection timeline"),
        table_html(shown, 2, index=False) if len(shown) else '<p class="note">No events detected.</p>',
        "<h4>Key frames</h4>", _key_frames(folder, str(summary.get("video", "")), features, events)])
