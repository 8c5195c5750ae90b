"""Fixtures for the tally tests: the real Pabulib elections shipped with the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tally_data import DATA


@pytest.fixture(name="data_dir")
def fx_data_dir() -> Path:
    return DATA
