"""The real Pabulib elections shipped with the suite (``tests/data/pabulib``)."""

from __future__ import annotations

from tally import PabulibFile, read_pb
from tests.support.paths import DATA as TEST_DATA

DATA = TEST_DATA / "pabulib"

_cache: dict[str, PabulibFile] = {}


def load(name: str) -> PabulibFile:
    """A real election by file name, parsed once per test session."""
    if name not in _cache:
        _cache[name] = read_pb(DATA / name)
    return _cache[name]
