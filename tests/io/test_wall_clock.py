"""A study's wall time adds up over its runs, including a run that was killed before it finished."""

from __future__ import annotations

import json
import time

from oocyteseg.io.wall_clock import LEDGER_NAME, RunClock


def test_time_adds_up_over_runs_and_survives_a_killed_run(tmp_path):
    with RunClock(tmp_path, every=0.02) as clock:
        time.sleep(0.15)
        # while the run goes on, the ledger already holds most of it: a kill now loses at most `every`
        mid = json.loads((tmp_path / LEDGER_NAME).read_text())
        assert mid["runs"] == 1 and 0.05 <= mid["seconds_total"] <= clock.seconds + 0.01
    first = json.loads((tmp_path / LEDGER_NAME).read_text())
    assert first["runs"] == 1 and first["seconds_total"] >= 0.15

    # a "killed" run: entered, never exited (its heartbeat thread keeps writing until we stop it by hand)
    killed = RunClock(tmp_path, every=0.02).__enter__()
    time.sleep(0.1)
    killed._stop.set()
    killed._thread.join()
    after_kill = json.loads((tmp_path / LEDGER_NAME).read_text())
    assert after_kill["runs"] == 2 and after_kill["seconds_total"] >= first["seconds_total"] + 0.03

    with RunClock(tmp_path, every=10) as third:
        assert third.runs == 3 and third.earlier == after_kill["seconds_total"]
    assert json.loads((tmp_path / LEDGER_NAME).read_text())["runs"] == 3


def test_an_old_folder_starts_from_its_results_file_and_a_fresh_run_from_zero(tmp_path):
    (tmp_path / "study.json").write_text(json.dumps({"seconds": 60.0, "seconds_total": 600.0, "runs": 2}))
    with RunClock(tmp_path, fallback=tmp_path / "study.json") as clock:
        assert clock.earlier == 600.0 and clock.runs == 3
    old = tmp_path / "old"
    old.mkdir()
    (old / "experiment.json").write_text(json.dumps({"seconds": 90.0}))  # written before runs were counted
    with RunClock(old, fallback=old / "experiment.json") as clock:
        assert clock.earlier == 90.0 and clock.runs == 2
    with RunClock(tmp_path, fallback=tmp_path / "study.json", resume=False) as clock:  # --overwrite
        assert clock.earlier == 0.0 and clock.runs == 1


def test_a_damaged_ledger_is_a_one_line_error_naming_it(tmp_path):
    import pytest

    from oocyteseg.errors import OocytesegError

    (tmp_path / LEDGER_NAME).write_text("{not json")
    with pytest.raises(OocytesegError, match="earlier run time") as err:
        RunClock(tmp_path)
    assert LEDGER_NAME in str(err.value)
