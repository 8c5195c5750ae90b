"""Where things are: the repository, the suite's data, the screenshots."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
VECTORS = DATA / "vectors"
EXAMPLE_ELECTION = ROOT / "examples" / "election.toml"
ARTIFACTS = ROOT / "test-artifacts"
