"""`oocyteseg experiment injection` (issue #17), tiny: 4 phantom cases (one per mode), small frames, true masks only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oocyteseg.cli.main import main
from oocyteseg.injection_modes import MODES


def test_injection_study_tiny(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["experiment", "injection", "--out", str(out), "--cases", "4", "--seconds", "2", "--size", "120x160"])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("injection_per_case.csv", "injection_per_case.md", "injection_study.log"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "injection_per_case.csv", index_col=0)
    assert set(table["source"]) == {"true masks"}
    assert {"breakage_frame_error", "mode_true", "mode_read", "mode_right"} <= set(table.columns)
    assert {"Average", "SD"} <= set(table.index.astype(str)) and len(table) == 4 + 2
    cases = table.drop(index=["Average", "SD"])
    assert sorted(cases["mode_true"]) == sorted(MODES)  # the modes take turns
    assert np.isfinite(cases["breakage_frame_error"].astype(float)).all()
    assert "breakage_frame_error" in printed
    log = (out / "injection_study.log").read_text()
    assert log.startswith("command: oocyteseg experiment injection --out") and "mode" in log
    md = (out / "injection_per_case.md").read_text()
    assert "Average" in md and "not clinical validity" in md
    assert main(["experiment", "injection", "--out", str(out), "--cases", "4"]) != 0  # exists: --overwrite needed
