"""``veche bench trustees`` on a small scale: a ceremony, a close, the printed figures."""

from __future__ import annotations

import argparse

import pytest

from veche.bench import trustees as bench


def test_the_registrar_adds_the_bench() -> None:
    parser = argparse.ArgumentParser(prog="veche bench")
    bench.add_trustees_bench(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(["trustees"])
    assert args.trustees == [3, 7] and args.ballots == [10_000]


def test_a_close_opens_every_ballot_it_sealed(capsys: pytest.CaptureFixture[str]) -> None:
    shares_ms, opening_ms, k = bench.close_ms(20, n=3)
    assert k == 2 and shares_ms >= 0 and opening_ms >= 0
    parser = argparse.ArgumentParser(prog="veche bench")
    bench.add_trustees_bench(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(["trustees", "--trustees", "2", "--ballots", "10"])
    assert bench.run_trustees_bench(args) == 0
    out = capsys.readouterr().out
    assert "Raw libsodium Edwards25519 scalar multiplication" in out
    assert "2 trustees, threshold 2" in out and "10 ballots, 2 shares" in out
