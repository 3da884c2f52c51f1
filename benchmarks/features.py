"""Morphometry benchmark: speed of frame_features on 480x640 masks, perimeter estimators, tip accuracy.

Run: PYTHONPATH=src python benchmarks/features.py [--frames 200] [--estimators] [--tips] [--labelme 4]
     [--figure docs/features-figure.png]
Prints Markdown tables (used in docs/features.md).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from skimage.measure import find_contours, perimeter, perimeter_crofton

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.morphometry.shapes_util

from oocyteseg.morphometry.features import frame_features  # noqa: E402
from oocyteseg.morphometry.needle import needle_tip  # noqa: E402
from oocyteseg.morphometry.shapes import circularity, contour_length_area, polygon_length_area  # noqa: E402
from tests.morphometry.shapes_util import disk, ellipse, fill_poly, icsi_scene, lumen_polygon, needle_polygon  # noqa: E402


def phantom_masks(n: int) -> list[tuple[np.ndarray, tuple[float, float] | None]]:
    """n phantom 480x640 masks with their true tip (x, y), over 6 cases and the whole injection."""
    from oocyteseg.phantom.dataset import case_seed
    from oocyteseg.phantom.params import sample_case
    from oocyteseg.phantom.geometry import jitter_offset, needle_state
    from oocyteseg.phantom.render import render_frame
    out = []
    per_case = max(1, n // 6)
    for ci in range(6):
        case = sample_case(case_seed(0, ci), f"case{ci + 1:02d}")
        for k, u in enumerate(np.linspace(0, 1, per_case)):
            _, mask = render_frame(case, float(u), duration_s=4.0, frame_index=k, noise=False)
            st = needle_state(case, float(u), 4.0)
            jx, jy = jitter_offset(case, k)
            out.append((mask, None if st is None else (st.tip[0] + jx, st.tip[1] + jy)))
    return out[:n]


def bench_speed(n: int) -> None:
    masks = [m for m, _ in phantom_masks(min(n, 48))]
    masks += [icsi_scene((300.0 + i % 40, 240.0), a, hollow=bool(i % 2)) for i, a in
              enumerate([0, 15, 30, 90, 180, -45] * 8)]
    for m in masks[:5]:
        frame_features(m)  # warm-up
    rows = []
    for name, subset in (("phantom (6 cases)", masks[:-48]), ("analytic scenes", masks[-48:]),
                         ("empty frame", [np.zeros((480, 640), np.uint8)])):
        times, cpu = [], []
        reps = max(1, n // len(subset))
        for _ in range(reps):
            for m in subset:
                t0, c0 = time.perf_counter(), time.process_time()
                frame_features(m)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
        times.sort()
        rows.append((name, len(times), statistics.median(times), statistics.fmean(times),
                     times[int(0.95 * (len(times) - 1))], statistics.fmean(cpu)))
    print(f"\n## frame_features speed, 480x640 masks, one process (OpenCV threads: {cv2.getNumThreads()})\n")
    print("| masks | calls | median ms | mean ms | p95 ms | mean CPU ms |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} |")


def _ms(mask: np.ndarray, sigma: float) -> float:
    p = np.pad(mask.astype(np.float32), 5)
    if sigma:
        p = cv2.GaussianBlur(p, (0, 0), sigma)
    length = area = 0.0
    for c in find_contours(p, 0.5):
        l_, a_ = polygon_length_area(c)
        length, area = length + l_, area + a_
    return circularity(length, area)


ESTIMATORS = {
    "pixel count + Crofton perimeter": lambda m: 4 * math.pi * m.sum() / perimeter_crofton(m, 4) ** 2,
    "pixel count + skimage perimeter": lambda m: 4 * math.pi * m.sum() / perimeter(m) ** 2,
    "cv2 contour (CHAIN_APPROX_NONE) area/arcLength": lambda m: (lambda c: 4 * math.pi * cv2.contourArea(c) /
                                                                 cv2.arcLength(c, True) ** 2)(
        max(cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0], key=len)),
    "marching squares, no smoothing": lambda m: _ms(m, 0.0),
    "marching squares, sigma 0.7": lambda m: _ms(m, 0.7),
    "marching squares, sigma 1.0 (chosen)": lambda m: circularity(*contour_length_area(m)),
}


def bench_estimators() -> None:
    rng = np.random.default_rng(0)
    radii = [3, 5, 8, 12, 20, 40, 80]
    print("\n## Circularity of digitised disks (20 random sub-pixel centres per radius): mean [min, max]\n")
    print("| estimator | " + " | ".join(f"r={r}" for r in radii) + " |\n|---|" + "---|" * len(radii))
    disks = {r: [disk(r, r + 8 + rng.random(), r + 8 + rng.random(), (2 * r + 18,) * 2) for _ in range(20)]
             for r in radii}
    for name, fn in ESTIMATORS.items():
        cells = []
        for r in radii:
            v = [fn(m) for m in disks[r]]
            cells.append(f"{np.mean(v):.3f} [{min(v):.3f}, {max(v):.3f}]")
        print(f"| {name} | " + " | ".join(cells) + " |")
    a, b = 30, 10
    h = ((a - b) / (a + b)) ** 2
    ell_true = 4 * math.pi * math.pi * a * b / (math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))) ** 2
    print("\n## Other shapes (angles 0, 10, 22.5, 33, 45 deg): mean [min, max]\n")
    print(f"| estimator | ellipse 30x10 (true {ell_true:.3f}) | square 40 (true {math.pi / 4:.3f}) | "
          f"square 12 (true {math.pi / 4:.3f}) |\n|---|---|---|---|")
    shapes = {"e": [ellipse(a, b, t, 60.3, 60.6, (120, 120)) for t in (0, 10, 22.5, 33, 45)],
              "s40": [_square(40, t) for t in (0, 10, 22.5, 33, 45)],
              "s12": [_square(12, t) for t in (0, 10, 22.5, 33, 45)]}
    for name, fn in ESTIMATORS.items():
        cells = []
        for v in ([fn(m) for m in shapes[k]] for k in ("e", "s40", "s12")):
            cells.append(f"{np.mean(v):.3f} [{min(v):.3f}, {max(v):.3f}]")
        print(f"| {name} | " + " | ".join(cells) + " |")


def _square(side: float, angle: float) -> np.ndarray:
    m = np.zeros((80, 80), np.uint8)
    box = cv2.boxPoints(((40.3, 39.6), (side, side), angle))
    fill_poly(m, box, 1)
    return m


def bench_tips() -> None:
    print("\n## Needle tip error (px): analytic tapered needles (blunt end, half-width 3 px) and phantom\n")
    print("| needle | frames | mean | max | NaN |\n|---|---|---|---|---|")
    rng = np.random.default_rng(1)
    for hollow in (False, True):
        errs = []
        for angle in (0, 15, 30, 90, 180, -45):
            for _ in range(5):
                tip = (260 + 40 * rng.random(), 200 + 40 * rng.random())
                m = np.zeros((480, 640), np.uint8)
                fill_poly(m, needle_polygon(tip, angle), 1)
                if hollow:
                    lumen = np.zeros_like(m)
                    fill_poly(lumen, lumen_polygon(tip, angle), 1)
                    m[lumen > 0] = 0
                res = needle_tip(m > 0, toward=(320.0, 240.0))
                errs.append(math.hypot(res.x - tip[0], res.y - tip[1]))
        _tip_row(f"analytic, {'hollow (lumen open at tip)' if hollow else 'solid'}, 6 angles", errs)
    errs = []
    for mask, truth in phantom_masks(54):
        if truth is not None:
            f = frame_features(mask)
            errs.append(math.hypot(f["tip_x"] - truth[0], f["tip_y"] - truth[1]))
    _tip_row("phantom exact masks (pointed tip), 6 cases", errs)


def _tip_row(name: str, errs: list[float]) -> None:
    e = np.asarray(errs)
    print(f"| {name} | {len(e)} | {np.nanmean(e):.2f} | {np.nanmax(e):.2f} | {int(np.isnan(e).sum())} |")


def figure(path: str) -> None:
    """Annotated phantom frame (oocyte region, C_o, sERC contour, needle axis and tip, f3/f4), tip close-up,
    and the relative error that a 1 px tip error gives as |M| shrinks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from oocyteseg.classes import ICSI
    from oocyteseg.morphometry.features import oocyte_region
    from oocyteseg.morphometry.shapes import SMOOTH_SIGMA, components
    from oocyteseg.phantom.dataset import case_seed
    from oocyteseg.phantom.params import sample_case
    from oocyteseg.phantom.render import render_frame

    case = sample_case(case_seed(0, 0), "case01")
    _, mask = render_frame(case, 0.3, duration_s=4.0, frame_index=0, noise=False)
    f = frame_features(mask)
    region, _ = oocyte_region(mask)
    colors = np.array(ICSI.colors, dtype=float) / 255
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), dpi=110, gridspec_kw={"width_ratios": [1.3, 1, 1]})
    ax = axes[0]
    ax.imshow(colors[mask], interpolation="nearest")
    for c in find_contours(region.astype(float), 0.5):
        ax.plot(c[:, 1], c[:, 0], "w-", lw=1.2, label="oocyte region S_o")
    comps = components(mask == 2)
    crop, x0, y0 = comps.crop(0, pad=5)
    for c in find_contours(cv2.GaussianBlur(crop.astype(np.float32), (0, 0), SMOOTH_SIGMA), 0.5):
        ax.plot(c[:, 1] + x0, c[:, 0] + y0, "k-", lw=1, label="sERC contour (L_s)")
    cx, cy, tx, ty = f["oocyte_cx"], f["oocyte_cy"], f["tip_x"], f["tip_y"]
    ax.plot(cx, cy, "wo", ms=6, mec="k", label="C_o")
    ax.plot(tx, ty, "c*", ms=12, mec="k", label="T_n")
    ax.plot([tx, tx + 150 * -f["needle_axis_x"]], [ty, ty + 150 * -f["needle_axis_y"]], "c--", lw=1, label="needle axis")
    ax.annotate("", xy=(cx, ty), xytext=(tx, ty), arrowprops=dict(arrowstyle="<->", color="w"))
    ax.annotate("", xy=(cx, cy), xytext=(cx, ty), arrowprops=dict(arrowstyle="<->", color="w"))
    ax.text((cx + tx) / 2, ty - 8, f"f3 = {f['f3']:.1f} px", color="w", ha="center", fontsize=8)
    ax.text(cx - 6, (cy + ty) / 2, f"f4 = {f['f4']:.1f} px", color="w", ha="right", fontsize=8)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="lower left")
    ax.set_title(f"phantom frame: f1 = {f['f1']:.3f}, f2 = {f['f2']:.4f}", fontsize=9)
    ys, xs = np.nonzero(region)
    ax.set_xlim(xs.min() - 20, min(mask.shape[1], tx + 120))
    ax.set_ylim(ys.max() + 20, ys.min() - 20)
    ax.set_axis_off()

    ax = axes[1]
    tip = (200.3, 150.6)
    m = np.zeros((300, 400), np.uint8)
    fill_poly(m, needle_polygon(tip, 30), 1)
    lumen = np.zeros_like(m)
    fill_poly(lumen, lumen_polygon(tip, 30), 1)
    m[lumen > 0] = 0
    res = needle_tip(m > 0, toward=(300.0, 200.0))
    ax.imshow(m, cmap="gray_r", vmin=0, vmax=3, interpolation="nearest")
    for c in find_contours(m.astype(float), 0.5):
        ax.plot(c[:, 1], c[:, 0], "b.-", lw=0.6, ms=2)
    ax.plot(*tip, "g+", ms=14, mew=2, label="true tip (polygon)")
    ax.plot(res.x, res.y, "rx", ms=10, mew=2, label=f"detected (error {math.hypot(res.x - tip[0], res.y - tip[1]):.2f} px)")
    ax.set_xlim(tip[0] - 30, tip[0] + 8)
    ax.set_ylim(tip[1] + 12, tip[1] - 22)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title("hollow tip, lumen open: marching-squares contour", fontsize=9)

    ax = axes[2]
    manual = np.linspace(0.5, 60, 300)
    ax.plot(manual, 100 * 1.0 / manual, label="relative error [%] of a 1 px tip error")
    ax.axhline(100 * 1.0 / 60, color="0.6", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel("|M| = manual |f4| (px)")
    ax.set_ylabel("relative error [%] (absolute error stays 1 px)")
    ax.set_title("relative error explodes as M -> 0", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    print(f"figure written: {path}")


def compare_labelme(cases: int, seconds: float) -> None:
    """Phantom: features of LabelMe-rasterised masks (A) against the exact masks (M), in Table 3 form."""
    import tempfile

    from oocyteseg.classes import ICSI
    from oocyteseg.data.manifest import load_manifest
    from oocyteseg.io.labelme import read_labelme_mask
    from oocyteseg.morphometry.compare import case_table, compare, table_markdown
    from oocyteseg.morphometry.table import features_table, iter_masks
    from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

    with tempfile.TemporaryDirectory() as tmp:
        cfg = PhantomConfig(cases=cases, seconds=seconds, fps=24, label_fps=1, video_formats=(), inclusion_images=0)
        manifest = make_phantom_dataset(tmp, cfg)
        exact = features_table(iter_masks(manifest))
        rows = load_manifest(manifest).to_dict("records")
        labelme = features_table(({k: r[k] for k in ("case", "video", "frame_index", "time_s")},
                                  read_labelme_mask(Path(tmp) / r["labelme"], ICSI)) for r in rows)
    per_frame, per_case = compare(labelme, exact)
    print(f"\n## Phantom, {cases} cases x {len(per_frame) // max(cases, 1)} stills: LabelMe-rasterised (A) vs "
          f"exact masks (M)\n")
    print(f"Frames excluded from the relative error: {per_frame.attrs['excluded']}\n")
    print("### Relative error [%]\n")
    print(table_markdown(per_case))
    print("### Absolute error\n")
    print(table_markdown(case_table(per_frame, "abs"), decimals=4))
    if not per_frame["f4_rel"].notna().any():
        return
    worst = per_frame.loc[per_frame["f4_rel"].idxmax()]
    print(f"Largest f4 relative error: case {worst['case']} frame {worst['frame_index']}: "
          f"M = {worst['f4_manual']:.2f} px, A = {worst['f4_auto']:.2f} px, |A - M| = {worst['f4_abs']:.2f} px, "
          f"relative error {worst['f4_rel']:.1f}%")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=200, help="calls per speed row")
    ap.add_argument("--estimators", action="store_true", help="also compare perimeter estimators")
    ap.add_argument("--tips", action="store_true", help="also measure needle-tip accuracy")
    ap.add_argument("--figure", metavar="PNG", help="also write the docs figure to this path")
    ap.add_argument("--labelme", type=int, default=0, metavar="CASES",
                    help="also compare LabelMe-rasterised vs exact phantom masks over this many cases")
    ap.add_argument("--seconds", type=float, default=8.0, help="phantom video length for --labelme")
    args = ap.parse_args()
    print(f"# Morphometry benchmark ({platform.processor() or platform.machine()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")
    bench_speed(args.frames)
    if args.estimators:
        bench_estimators()
    if args.tips:
        bench_tips()
    if args.labelme:
        compare_labelme(args.labelme, args.seconds)
    if args.figure:
        figure(args.figure)


if __name__ == "__main__":
    main()
