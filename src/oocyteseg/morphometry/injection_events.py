"""Events and summary of one injection from the tracker's table (a pass over the table, no pixels).

Rules (lengths relative to the oocyte radius R = the table's `oolemma_radius_px`, times in frames
scaled by fps / 24):
- Cleaning: funnel depth and penetration go through `temporal.hampel` (7 frames, floor HAMPEL_FLOOR_R x R:
  high enough to keep the funnel's sharp peak at breakage, low enough to drop a glitched frame), then
  gaps (NaN rows, lost needle, missing frames) are filled by linear interpolation, so a missed frame
  or two neither creates nor hides an event.
- contact: first frame with penetration >= -CONTACT_TOL_PX (the tip reaches the undeformed oolemma; the
  last pixel of a tapered tip is thinner than a pixel, so the mask's tip lies up to ~1 px behind it).
- Relaxations: peaks of the funnel with prominence >= max(MIN_DROP_PX, MIN_DROP_R x R, 0.4 x peak)
  that lose >= 40 % of their depth within RELAX_WINDOW_S, after a build-up (at least half the peak
  depth for BUILD_UP_S: a spike of a misread frame or two is not a funnel). The event frame is the first
  frame after the peak. A relaxation while the tip retreats by more than half the drop (and stays at the
  funnel) is a failed attempt ("attempt"); one after which the tip is past the oolemma (penetration -
  funnel > the minimum drop, median over RELAX_WINDOW_S) is an entry; anything else is noise. The
  breakage is the FIRST entry: once the oolemma is broken, later wobbles are not attempts.
- No relaxation but the tip past the oolemma by more than the funnel for BUILD_UP_S: breakage with no
  resistance, dated at contact (nothing resisted the tip from there), its depth the median funnel
  between contact and the entry.
- Mode: "repeated" when there are >= 2 relaxations; else by the funnel depth at breakage D:
  D < NO_RESISTANCE_R x R -> "no_resistance", D < SHALLOW_R x R -> "shallow", else "pressure";
  "unknown" without a breakage.
- max_funnel: the deepest funnel frame; injection: the deepest tip frame; withdrawal: the first frame
  after injection with penetration < 0 (None if never); recovery: after breakage, the first frame
  where the funnel has made 90 % of its return to its final level (median of the last RECOVERY_TAIL_S).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from oocyteseg.injection_modes import MODE_TEXT
from oocyteseg.morphometry.temporal import hampel

EVENT_NAMES = ("contact", "max_funnel", "attempt", "breakage", "injection", "withdrawal", "recovery")
HAMPEL_FLOOR_R = 0.1
CONTACT_TOL_PX = 1.0
MIN_DROP_PX = 3.0  # a relaxation loses at least this many px ...
MIN_DROP_R = 0.02  # ... and this fraction of the radius
RELAX_WINDOW_S = 0.5  # the drop must happen within this time
RELAX_FRACTION = 0.4  # ... and lose at least this fraction of the peak depth
# Mode boundaries sit midway in the gaps between the phantom's ranges (no resistance <= 0.02 R, shallow
# 0.06-0.15 R, pressure 0.25-0.5 R), so a reading error of a few px does not flip a mode.
NO_RESISTANCE_R = 0.04  # funnel at breakage below 4 % of R: no resistance (≈ 5 px for R = 130 px)
SHALLOW_R = 0.2  # below 20 % of R: a shallow curve; above: a pressure funnel (cone)
RECOVERY_TAIL_S = 0.25
BUILD_UP_S = 0.2  # a funnel is at least half its peak depth for this long before it relaxes
PEAK_FIT_S = 0.25  # the funnel depth at breakage is read from a line fitted over this time before the peak


@dataclass
class Event:
    """One event: its name, frame, time (s) and a confidence in [0, 1]."""

    name: str
    frame: int
    time_s: float
    confidence: float


@dataclass
class InjectionReading:
    """What `detect_events` read from one video: events in frame order and a summary dict."""

    events: list[Event] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def event(self, name: str) -> Event | None:
        """The last event with this name, or None."""
        return next((e for e in reversed(self.events) if e.name == name), None)

    def to_dict(self) -> dict:
        return {"summary": dict(self.summary), "events": [asdict(e) for e in self.events]}

    def events_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(e) for e in self.events], columns=["name", "frame", "time_s", "confidence"])


def _clean(x: np.ndarray, floor: float) -> np.ndarray:
    """Hampel-filtered, gaps linearly interpolated (ends held)."""
    y, _ = hampel(x, floor=floor)
    ok = np.isfinite(y)
    if not ok.any():
        return y
    idx = np.arange(len(y))
    return np.interp(idx, idx[ok], y[ok])


def _regular(table: pd.DataFrame) -> pd.DataFrame:
    """One row per frame from the first to the last (missing frames become NaN rows)."""
    t = table.sort_values("frame").drop_duplicates("frame", keep="last").set_index("frame")
    return t.reindex(range(int(t.index.min()), int(t.index.max()) + 1))


def detect_events(table: pd.DataFrame, fps: float) -> InjectionReading:
    """Events (contact, max funnel, attempts, breakage, injection, withdrawal, recovery) and the summary
    of one injection from an `InjectionTracker` table; see the module docstring for the rules."""
    reading = InjectionReading()
    qc: list[str] = []
    summary = {"mode": "unknown", "mode_text": "", "attempts": 0, "funnel_depth_at_breakage_px": math.nan,
               "contact_to_breakage_s": math.nan, "max_funnel_depth_px": math.nan, "recovery_fraction": math.nan,
               "recovery_time_s": math.nan, "polar_body_angle_deg": math.nan, "polar_body_clock": math.nan}
    if table is None or not len(table) or not np.isfinite(table["funnel_depth_px"].to_numpy(float)).any():
        summary["qc"] = "no_measurements"
        reading.summary = summary
        return reading
    t = _regular(table)
    frames = t.index.to_numpy()
    times = t["time_s"].to_numpy(float)
    times = np.where(np.isfinite(times), times, (frames - frames[0]) / fps + np.nanmin(times))
    radius = float(np.nanmedian(t["oolemma_radius_px"].to_numpy(float))) if "oolemma_radius_px" in t else math.nan
    if not math.isfinite(radius):
        radius, _ = 130.0, qc.append("no_radius")
    floor = HAMPEL_FLOOR_R * radius
    f, p = _clean(t["funnel_depth_px"].to_numpy(float), floor), _clean(t["penetration_px"].to_numpy(float), floor)
    win = max(2, int(round(RELAX_WINDOW_S * fps)))
    noise = float(np.nanmedian(np.abs(np.diff(f)))) if len(f) > 2 else 1.0

    def add(name: str, i: int, conf: float) -> None:
        reading.events.append(Event(name, int(frames[i]), float(times[i]), float(np.clip(conf, 0, 1))))

    has_p = np.isfinite(p).any()
    contact = int(np.argmax(p >= -CONTACT_TOL_PX)) if has_p and (p >= -CONTACT_TOL_PX).any() else None
    if contact is not None:
        add("contact", contact, 1.0 if contact > 0 else 0.5)
    else:
        qc.append("no_contact")
    i_max = int(np.nanargmax(f))
    summary["max_funnel_depth_px"] = float(f[i_max])
    if f[i_max] > MIN_DROP_PX:
        add("max_funnel", i_max, f[i_max] / (f[i_max] + 3 * noise + 1e-9))

    relax = []  # (event index, depth at peak, failed?, confidence)
    min_drop = max(MIN_DROP_PX, MIN_DROP_R * radius)
    sustain = max(3, int(round(BUILD_UP_S * fps)))
    gap = p - np.maximum(f, 0) if has_p else np.full_like(f, np.nan)
    peaks, _ = find_peaks(np.r_[f, -np.inf], prominence=min_drop)
    done = -1
    for k in peaks:
        if k >= len(f) - 1 or k <= done:
            continue
        seg = f[k + 1:k + 1 + win]
        fall = np.flatnonzero(seg < 0.5 * f[k])
        held = np.flatnonzero(seg[:fall[0] if len(fall) else len(seg)] >= 0.95 * f[k])
        if len(held):  # the funnel dipped and came back before it fell: the fall starts at the later top
            k = done = k + 1 + int(held[-1])
            seg = f[k + 1:k + 1 + win]
            if not len(seg):
                continue  # the funnel is still at its top at the end of the video
        drop = f[k] - float(seg.min())
        if drop < max(min_drop, RELAX_FRACTION * f[k]):
            continue
        if int(np.sum(f[max(0, k - win):k + 1] >= 0.5 * f[k])) < sustain:
            continue  # a funnel builds up; a spike of a frame or two is a misread mask
        j = k + 1 + int(np.argmin(seg))
        retreat = has_p and (p[k] - float(p[k:j + 1].min())) > 0.5 * drop
        inside = has_p and float(np.nanmedian(gap[k + 1:k + 1 + win])) > min_drop
        if retreat == inside:
            continue  # neither a pull-back (tip retreats, stays at the funnel) nor an entry: noise
        relax.append((k + 1, _peak_depth(f, k, fps), retreat, drop / (drop + 3 * noise + 1e-9)))
    breaks = [r for r in relax if not r[2]]
    brk = None
    if breaks:  # the first entry is the breakage: once broken, later wobbles of the oolemma are no attempts
        brk = breaks[0]
        relax = [r for r in relax if r[0] <= brk[0]]
    elif has_p and contact is not None:  # no funnel relaxed: entry with no resistance, from contact on
        run = np.convolve((gap > min_drop).astype(int), np.ones(sustain, int), "valid") == sustain
        if run.any():
            onset = int(np.argmax(run))
            i = min(contact, onset)
            depth = float(np.nanmedian(f[i:onset + 1]))
            brk = (i, depth, False, 1.0 if np.nanmax(f[i:onset + 1]) < NO_RESISTANCE_R * radius else 0.5)
            relax = [r for r in relax if r[0] < i] + [brk]
    if brk is None:
        qc.append("no_breakage")
    for r in relax:
        add("attempt" if r is not brk else "breakage", r[0], r[3])
    if brk is not None:
        depth = brk[1]
        summary["attempts"] = len(relax)
        summary["funnel_depth_at_breakage_px"] = depth
        if len(relax) >= 2:
            mode = "repeated"
        else:
            mode = "no_resistance" if depth < NO_RESISTANCE_R * radius else (
                "shallow" if depth < SHALLOW_R * radius else "pressure")
        summary.update(mode=mode, mode_text=MODE_TEXT[mode])
        if contact is not None:
            summary["contact_to_breakage_s"] = float(times[brk[0]] - times[contact])
        _recovery(f, times, brk[0], depth, fps, summary, add)
    if has_p:
        i_in = int(np.nanargmax(p))
        if p[i_in] > 0:
            add("injection", i_in, 1.0)
            out = np.flatnonzero(p[i_in:] < 0)
            if len(out):
                add("withdrawal", i_in + int(out[0]), 1.0)
    pb = t["polar_body_angle_deg"].to_numpy(float) if "polar_body_angle_deg" in t else np.array([np.nan])
    if np.isfinite(pb).any():
        z = np.exp(1j * np.radians(pb[np.isfinite(pb)]))
        angle = float(np.degrees(np.angle(np.median(z.real) + 1j * np.median(z.imag))))
        summary["polar_body_angle_deg"] = angle
        summary["polar_body_clock"] = clock(angle)
    if "injection_qc" in t and t["injection_qc"].astype(str).str.contains("no_polar_body_class").any():
        qc.append("no_polar_body_class")
    if "funnel_depth_um" in t:
        ratio = (t["funnel_depth_um"] / t["funnel_depth_px"]).replace([np.inf, -np.inf], np.nan).dropna()
        px_um = float(ratio.median()) if len(ratio) else math.nan
        summary["funnel_depth_at_breakage_um"] = summary["funnel_depth_at_breakage_px"] * px_um
    reading.events.sort(key=lambda e: (e.frame, EVENT_NAMES.index(e.name)))
    summary["qc"] = ";".join(qc)
    reading.summary = summary
    return reading


def _peak_depth(f: np.ndarray, k: int, fps: float) -> float:
    """Funnel depth at a peak: a straight line fitted to the PEAK_FIT_S before it (inclusive), read at it
    (averages out the per-frame noise of the flank fit while the funnel deepens steadily)."""
    n = max(3, int(round(PEAK_FIT_S * fps)))
    if k + 1 < n:
        return float(f[k])
    x = np.arange(k + 1 - n, k + 1)
    slope, icpt = np.polyfit(x, f[x], 1)
    return float(slope * k + icpt)


def _recovery(f: np.ndarray, times: np.ndarray, start: int, depth: float, fps: float, summary: dict, add) -> None:
    """recovery_fraction (1 = the funnel returns fully), recovery_time_s and the recovery event."""
    tail = f[max(start, len(f) - max(1, int(round(RECOVERY_TAIL_S * fps)))):]
    final = float(np.median(tail)) if len(tail) else math.nan
    if not (depth > 0 and math.isfinite(final)):
        return
    summary["recovery_fraction"] = float(np.clip(1 - final / depth, 0, 1))
    level = final + 0.1 * (depth - final)
    done = np.flatnonzero(f[start:] <= level)
    if len(done):
        i = start + int(done[0])
        summary["recovery_time_s"] = float(times[i] - times[start])
        add("recovery", i, 1.0)


def clock(angle_deg: float) -> float:
    """Clock position (hours in (0, 12]) of an angle from the 3 o'clock direction, counter-clockwise."""
    h = (3.0 - angle_deg / 30.0) % 12.0
    return 12.0 if h == 0 else h
