"""`scripts/results_page.py` (repository tooling, not in the package) loaded as a module for the tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "results_page.py"


@pytest.fixture(scope="session")
def results_page():
    spec = importlib.util.spec_from_file_location("results_page", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
