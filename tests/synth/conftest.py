"""Fixtures of the synth tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from synth_fakes import write_fake_pairs


@pytest.fixture
def pair_dir(tmp_path: Path) -> Path:
    return write_fake_pairs(tmp_path / "pairs")
