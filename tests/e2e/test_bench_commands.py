"""The voting benchmarks run end to end on a small scale: every request succeeds, and the
tables they print carry the figures the README quotes (so the commands cannot rot)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


def veche(tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "veche.cli", "bench", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(output: str, engine: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.strip().startswith(engine)]


@pytest.mark.slow
def test_bench_cast_sends_every_ballot_and_credential(tmp_path: Path) -> None:
    out = veche(
        tmp_path,
        "cast",
        "--skip-postgres",
        "--workers",
        "1",
        "--voters",
        "30",
        "--ballots",
        "30",
        "--concurrency",
        "1,4",
    )
    ballots, credentials = (
        rows(out.split("Credentials issued")[0], "SQLite"),
        rows(out.split("Credentials issued")[1], "SQLite"),
    )
    # engine procs voters ballots fail per-s …: at 1 voter a tenth, at least 100
    assert [row[1:5] for row in ballots] == [["1", "1", "100", "0"], ["1", "4", "30", "0"]]
    assert [row[1:5] for row in credentials] == [["1", "16", "30", "0"]]
    for row in ballots + credentials:
        assert int(row[5].replace(",", "")) > 0  # a rate was measured
    assert "Ed25519 verify/s" in out


@pytest.mark.slow
def test_bench_load_reports_windows_and_memory(tmp_path: Path) -> None:
    out = veche(tmp_path, "load", "--seconds", "2", "--concurrency", "2", "--voters", "10")
    total = re.search(r"total ([\d,]+) ballots in \d+ s = ([\d,]+)/s", out)
    assert total is not None, out
    assert int(total.group(1).replace(",", "")) > 0
    assert re.search(r"server RSS \d+ MiB before, \d+ MiB at the end", out)
    window = re.search(r"^\s+0\s+(\d+)\s+(\d+)\s+(\d+)", out, re.MULTILINE)
    assert window is not None and window.group(2) == "0"  # no failures in the first window
