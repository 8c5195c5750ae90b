"""Smoke tests of the voting benchmarks: ``veche bench cast`` and ``veche bench load``
run to the end on a small load against real server processes and print their tables —
the labelled rows with the sizes they were asked for, every request answered without a
failure, every figure a number. The figures themselves (rates, latencies, memory) are
not checked: they depend on the machine."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.server import veche

NUMBER = re.compile(r"\d[\d,]*(\.\d+)?")


def bench(tmp_path: Path, *args: str) -> str:
    done = veche("bench", *args, env={**os.environ, "TMPDIR": str(tmp_path)}, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(output: str, engine: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if line.strip().startswith(engine)]


@pytest.mark.slow
def test_bench_cast_prints_a_row_per_load_with_every_request_answered(tmp_path: Path) -> None:
    """One server process on SQLite; ballots one at a time and four at a time, credentials
    three at a time (``--credential-concurrency``); approval ballots and, in the same run,
    the 8-question survey's (``--survey``)."""
    out = bench(
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
        "--credential-concurrency",
        "3",
        "--survey",
    )
    assert "Ballots cast over HTTP" in out and "Credentials issued over HTTP" in out
    before, after = out.split("Credentials issued over HTTP")
    ballots, credentials = rows(before, "SQLite"), rows(after, "SQLite")
    # engine ballot procs voters ballots fail …: one voter at a time sends max(100, ballots / 10)
    assert [row[1:6] for row in ballots] == [
        ["approval", "1", "1", "100", "0"],
        ["approval", "1", "4", "30", "0"],
        ["survey", "1", "1", "100", "0"],
        ["survey", "1", "4", "30", "0"],
    ]
    assert [row[1:6] for row in credentials] == [
        ["approval", "1", "3", "30", "0"],
        ["survey", "1", "3", "30", "0"],
    ]
    # … per s, p50 ms, p99 ms, srv us, gen us, /commit, and the raw rate of one core.
    for row in ballots + credentials:
        assert len(row) == 13, row
        assert all(NUMBER.fullmatch(figure) for figure in row[6:]), row
    header = next(line for line in before.splitlines() if "procs" in line)
    assert header.split()[-2:] == ["Ed25519", "verify/s"]
    header = next(line for line in after.splitlines() if "procs" in line)
    assert header.split()[-3:] == ["/commit", "blind", "sign/s"]


WINDOW = re.compile(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d)\s+(\d+\.\d)$", re.MULTILINE)


@pytest.mark.slow
def test_bench_load_prints_its_windows_total_and_memory(tmp_path: Path) -> None:
    """Two seconds of re-votes from two voters: every window of the table has no failure,
    the windows add up to the total, and the server's memory line is there."""
    out = bench(tmp_path, "load", "--seconds", "2", "--concurrency", "2", "--voters", "10")
    total = re.search(r"total ([\d,]+) ballots in \d+ s = ([\d,]+)/s", out)
    assert total is not None, out
    ballots = int(total.group(1).replace(",", ""))
    assert ballots > 0, out
    windows = [tuple(int(x) for x in match.groups()[:4]) for match in WINDOW.finditer(out)]
    assert windows, out
    assert [failures for _start, _count, failures, _rate in windows] == [0] * len(windows)
    assert sum(count for _start, count, _failures, _rate in windows) == ballots
    assert re.search(r"server RSS \d+ MiB before, \d+ MiB at the end, \d+ MiB after", out)
