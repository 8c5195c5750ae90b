"""Smoke test of ``veche bench reports``: on a tiny load it runs to the end and prints
its three tables — submissions beside a plain GET with no failure, every analytics view
beside the baseline page, ``veche verify`` over both logs OK — every figure a number.
The figures themselves are not checked: they depend on the machine."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.support.server import veche

NUMBER = re.compile(r"\d[\d,]*(\.\d+)?")


@pytest.mark.slow
def test_bench_reports_prints_its_three_tables(tmp_path: Path) -> None:
    done = veche(
        "bench",
        "reports",
        "--submissions",
        "6",
        "--concurrency",
        "1,2",
        "--reports",
        "3000",
        "--repeats",
        "1",
        "--entries",
        "3000",
        env={**os.environ, "TMPDIR": str(tmp_path)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    submissions = [
        line.split()
        for line in out.splitlines()
        if line.strip().startswith(("reports with a photo", "GET one report"))
    ]
    # what, then: concurrency, count, failures, per s, p50 ms, p99 ms
    assert [row[-6:-3] for row in submissions] == [
        ["1", "6", "0"],
        ["1", "6", "0"],
        ["2", "6", "0"],
        ["2", "6", "0"],
    ]
    assert all(NUMBER.fullmatch(x) for row in submissions for x in row[-3:]), submissions
    assert "over 3,000 reports" in out
    views = [
        "baseline: the account page",
        "no filter (by week)",
        "no filter, by day",
        "one category with its children",
        "one district and organisation",
        "one calendar month, by day",
        "from mid-month to today, by day",
        "CSV of the map's cells, no filter",
    ]
    for view in views:
        line = next(x for x in out.splitlines() if x.strip().startswith(view))
        figures = line.strip()[len(view) :].split()
        assert len(figures) == 4 and all(NUMBER.fullmatch(f) for f in figures), line
    assert re.search(r"slowest analytics request: [\d,]+ ms", out)
    assert re.search(r"report entries: [\d.]+ s = [\d,]+ entries/s, OK", out), out
    assert re.search(r"as many notices .*: [\d.]+ s = [\d,]+ entries/s, OK", out), out
    assert re.search(r"recomputation by itself: [\d.]+ s = [\d,]+ entries/s, OK", out), out
