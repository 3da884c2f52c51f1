"""Worker helpers: safe staging names, artefact collection by whitelist."""

from __future__ import annotations

import re
import zipfile

from hypothesis import given
from hypothesis import strategies as st

from oocyteseg.web.worker import ARTEFACTS, collect_artefacts, safe_stem, stage_input


@given(st.text(max_size=200))
def test_safe_stem_is_a_plain_file_name(name):
    stem = safe_stem(name)
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,60}", stem)
    assert not stem.startswith(".") and "/" not in stem


def test_safe_stem_examples():
    assert safe_stem("case 01 (2).mp4") == "case_01_2"
    assert safe_stem("../../etc/passwd") == "passwd"
    assert safe_stem("...") == "video"


def test_stage_input_links_under_the_display_name(tmp_path):
    src = tmp_path / "uploads" / "0123abcd.mp4"
    src.parent.mkdir()
    src.write_bytes(b"video")
    staged = stage_input(src, "ICSI run 3.MP4", tmp_path / "job" / "input")
    assert staged.name == "ICSI_run_3.mp4" and staged.read_bytes() == b"video"
    assert staged.parent == tmp_path / "job" / "input"


def test_collect_artefacts_keeps_only_whitelisted_outputs(tmp_path):
    engine = tmp_path / "analysis" / "case01"
    (engine / "masks").mkdir(parents=True)
    (engine / "masks" / "a.png").write_bytes(b"png")
    (engine / "features.csv").write_text("f1\n1\n")
    (engine / "run.json").write_text("{}")
    names = collect_artefacts(tmp_path, {"features.csv": engine / "features.csv", "masks": engine / "masks",
                                         "run.json": engine / "run.json", "summary.json": engine / "missing.json"})
    assert names == ["features.csv", "masks.zip"] and set(names) <= set(ARTEFACTS)
    assert (tmp_path / "features.csv").read_text() == "f1\n1\n"
    assert zipfile.ZipFile(tmp_path / "masks.zip").namelist() == ["a.png"]
    assert not (tmp_path / "run.json").exists()
