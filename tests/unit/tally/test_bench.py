"""``veche bench tally`` on a small scale, without pabutools: the figures are printed."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.support.tally_data import DATA
from veche.bench import tally as bench


def test_the_registrar_adds_the_bench() -> None:
    parser = argparse.ArgumentParser(prog="veche bench")
    bench.add_tally_bench(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(["tally", "--skip-pabutools", "--tally-voters", "50"])
    assert args.tally_voters == 50
    assert args.rules == "greedy,mes,mes+add1,phragmen"


@pytest.mark.slow
def test_bench_prints_both_figures_and_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warsaw = tmp_path / bench.WARSAW
    warsaw.write_bytes((DATA / "Netherlands_Assen_2024.pb").read_bytes())  # small stand-in
    tally_main = ["-c", "import sys; from tally.cli import main; raise SystemExit(main())"]
    code = bench.run_bench(
        data_dir=tmp_path,
        skip_pabutools=True,
        timeout=10,
        voters=300,
        tally_voters=200,
        rules=["greedy", "phragmen"],
        veche=tally_main,
    )
    assert code == 0
    out = capsys.readouterr()
    assert "(a) Warsaw 2026" in out.out
    assert "veche      rule " in out.out
    assert "(b) veche tally end to end, synthetic 200 voters" in out.out
    assert "veche tally failed" not in out.out
    assert "synthetic 300 voters" in out.out and "phragmen" in out.out
    assert "mes+add1" not in out.out.split("Each rule")[1]
    assert "missing" in out.err  # Łódź


def test_the_synthetic_election_is_reproducible() -> None:
    a, b = bench.synthetic_approval(100), bench.synthetic_approval(100)
    assert a == b
    assert len(a.ballots) == 100 and len(a.election.projects) == 60
    assert bench.synthetic_approval(10, rule="equalshares").declared_rule == "equalshares"
