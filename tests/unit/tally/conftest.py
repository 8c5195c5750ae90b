"""Fixtures for the tally tests: the real Pabulib elections shipped with the suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tally import PabulibFile, read_pb

DATA = Path(__file__).resolve().parents[2] / "data" / "pabulib"

_cache: dict[str, PabulibFile] = {}


def load(name: str) -> PabulibFile:
    """A real election by file name, parsed once per test session."""
    if name not in _cache:
        _cache[name] = read_pb(DATA / name)
    return _cache[name]


@pytest.fixture(name="data_dir")
def fx_data_dir() -> Path:
    return DATA
