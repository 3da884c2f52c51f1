import os

import pytest

from oocyteseg.classes import ICSI, get_label_set
from oocyteseg.errors import OocytesegError, OutputExistsError
from oocyteseg.io.atomic import atomic_path, write_text


def test_error_is_one_line_naming_file_and_fix():
    err = OocytesegError("bad\nthing", "/data/x.json", "re-save it")
    assert err.one_line() == "/data/x.json: bad thing. Fix: re-save it."
    assert "\n" not in str(err)


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("interrupted")
    assert not target.exists() and os.listdir(tmp_path) == []


def test_no_overwrite_without_flag(tmp_path):
    target = write_text(tmp_path / "a.txt", "one")
    with pytest.raises(OutputExistsError):
        write_text(target, "two", overwrite=False)
    assert target.read_text() == "one"
    write_text(target, "two")
    assert target.read_text() == "two"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


def test_label_sets():
    assert ICSI.index("serc") == 2 and ICSI.index("Needle") == 3
    with pytest.raises(KeyError, match="valid: background, oocyte, sERC, needle"):
        ICSI.index("zona")
    with pytest.raises(KeyError, match="valid"):
        get_label_set("nope")
