"""`oocyteseg report`: a self-contained HTML file with the IoU/feature tables, figures and commands."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from oocyteseg.classes import ICSI
from oocyteseg.cli.main import main
from oocyteseg.errors import OocytesegError
from oocyteseg.reports.html_report import build_report
from oocyteseg.reports.overlay import annotate_frame, overlay_mask


@pytest.fixture(scope="module")
def report_html(analysed_run):
    run, _ = analysed_run
    assert main(["report", str(run)]) == 0
    return (run / "report.html").read_text(encoding="utf-8")


def test_report_is_self_contained(report_html):
    assert not re.search(r"https?://", report_html)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", report_html)  # every image is a data URI
    assert "<style>" in report_html and "<link" not in report_html
    assert report_html.count("data:image/png;base64,") >= 5  # 2 videos x 2 figures + learning curves
    assert "data:image/jpeg;base64," in report_html  # QC thumbnails (an untrained model flags frames)


def test_report_sections(report_html):
    for heading in ("IoU (Table 2 form)", "relative error [%] (Table 3 form)", "Features per video",
                    "Learning curves", "Command and configuration", "case01", "case02"):
        assert heading in report_html, heading
    assert ">oocyte<" in report_html and ">sERC<" in report_html and ">needle<" in report_html
    assert "oocyteseg analyze " in report_html  # the exact command
    assert "case01_masks.npz" in report_html  # ground truth auto-detected next to the video


def test_truth_option_overwrite_and_errors(analysed_run, tmp_path):
    run, phantom = analysed_run
    out = tmp_path / "r.html"
    build_report(run, out, truth=phantom / "icsi")
    with pytest.raises(OocytesegError, match="already exists"):
        build_report(run, out)
    build_report(run, out, overwrite=True, max_thumbnails=0)
    with pytest.raises(OocytesegError, match="no finished video analysis"):
        build_report(tmp_path)
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_annotate_frame_marks_tip_and_centre():
    image = np.full((96, 128, 3), 128, np.uint8)
    mask = np.zeros((96, 128), np.uint8)
    mask[30:70, 40:80] = 1
    feats = {"f1": 0.8, "f2": 0.05, "f3": 10.0, "f4": -3.0, "oocyte_cx": 60.0, "oocyte_cy": 50.0,
             "tip_x": 100.0, "tip_y": 20.0, "reason": ""}
    base = overlay_mask(image, mask, ICSI)
    out = annotate_frame(image, mask, ICSI, feats, time_s=1.5)
    assert out.shape == image.shape
    assert not np.array_equal(out[18:23, 98:103], base[18:23, 98:103])  # tip cross
    assert not np.array_equal(out[44:56, 54:66], base[44:56, 54:66])  # centre circle
    assert np.array_equal(out[90:, 60:], base[90:, 60:])  # no reason text drawn at the bottom


def _float_overlay(image, mask, labels, alpha=0.45):
    """Reference: the blend in float arithmetic (truncated), outlines drawn as overlay_mask draws them."""
    colors = np.asarray(labels.colors, np.float32)
    out = image.astype(np.float32).copy()
    fg = mask > 0
    out[fg] = (1 - alpha) * out[fg] + alpha * colors[mask[fg]]
    out = out.clip(0, 255).astype(np.uint8)
    for c in range(1, labels.num_classes):
        cnts, _ = cv2.findContours((mask == c).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, cnts, -1, tuple(int(v) for v in labels.colors[c]), 1, lineType=cv2.LINE_AA)
    return out


def test_overlay_matches_a_float_reference():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    mask = np.zeros((64, 80), np.uint8)
    mask[10:40, 10:50], mask[20:30, 20:30], mask[50:60, :] = 1, 2, 3
    diff = np.abs(_float_overlay(image, mask, ICSI).astype(int) - overlay_mask(image, mask, ICSI))
    assert diff.max() <= 1  # rounding (OpenCV rounds, the float version truncates)
    outlines = {c: cv2.findContours((mask == c).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
                for c in (1, 3)}
    assert np.array_equal(overlay_mask(image, mask, ICSI, outlines=outlines), overlay_mask(image, mask, ICSI))
