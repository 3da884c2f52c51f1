"""`oocyteseg experiment injection` (issue #17), tiny: 4 phantom cases (one per mode), small frames, true masks only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oocyteseg.cli.main import main
from oocyteseg.injection_modes import MODES


def test_injection_study_tiny(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["experiment", "injection", "--out", str(out), "--cases", "4", "--size", "120x160"])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("injection_per_case.csv", "injection_per_case.md", "injection_study.log"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "injection_per_case.csv")
    assert set(table["source"]) == {"true masks"}
    assert {"case", "breakage_frame_error", "funnel_depth_error_px", "mode_true", "mode_read", "mode_right",
            "polar_body_angle_error_deg"} <= set(table.columns)
    assert {"Average", "SD"} <= set(table["case"])
    cases = table[table["case"].str.startswith("case")]
    assert len(cases) == 4
    assert sorted(cases["mode_true"]) == sorted(MODES)  # the modes take turns
    for col in ("breakage_frame_error", "funnel_depth_error_px", "polar_body_angle_error_deg"):
        assert np.isfinite(cases[col].astype(float)).all(), col
    assert "breakage_frame_error" in printed
    log = (out / "injection_study.log").read_text()
    assert log.startswith("command: oocyteseg experiment injection --out") and "mode" in log
    md = (out / "injection_per_case.md").read_text()
    assert "Average" in md and "not clinical validity" in md
    assert main(["experiment", "injection", "--out", str(out), "--cases", "4"]) != 0  # exists: --overwrite needed
