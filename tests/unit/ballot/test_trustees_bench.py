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
    args = parser.parse_args(
        ["trustees", "--trustees", "2", "--ballots", "10", "--verify-ballots", "--key-bits", "1024"]
    )
    assert bench.run_trustees_bench(args) == 0
    out = capsys.readouterr().out
    assert "Raw libsodium Edwards25519 scalar multiplication" in out
    assert "2 trustees, threshold 2" in out and "10 ballots, 2 shares" in out


def test_veche_verify_checks_a_synthetic_trustee_election(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser(prog="veche bench")
    bench.add_trustees_bench(parser.add_subparsers(dest="what", required=True))
    args = parser.parse_args(
        ["trustees", "--trustees", "2", "--ballots", "5", "--verify-ballots", "30",
         "--key-bits", "1024"]
    )  # fmt: skip
    assert bench.run_trustees_bench(args) == 0
    out = capsys.readouterr().out
    assert "30 ballots" in out and "ballots/s" in out and "with the rebuilt scalar" in out


def test_a_wrong_key_share_fails_the_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    from ballot.core import group, threshold
    from veche.bench import trustees_verify

    real = threshold.sign_key_share

    def off_by_one(election: str, j: int, share: bytes, key: bytes) -> dict[str, object]:
        return real(election, j, group.scalar_from_int(group.scalar_to_int(share) + 1), key)

    monkeypatch.setattr(threshold, "sign_key_share", off_by_one)
    with pytest.raises(RuntimeError, match="veche verify failed"):
        trustees_verify.verify_trustee_election(5, key_bits=1024)


@pytest.mark.parametrize("trustees", [None, (2, 3), (1, 1)])
def test_the_synthetic_log_verifies_with_and_without_trustees(
    trustees: tuple[int, int] | None,
) -> None:
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from ballot.core.verify import check_elections
    from veche.bench.synthetic import election_log

    lines, _note, _info = election_log(
        12, key_bits=1024, rng=os.urandom, authority=Ed25519PrivateKey.generate(), trustees=trustees
    )
    assert check_elections(lines, workers=1).failures == []
    kinds = [line.split(b'"kind":"', 1)[1].split(b'"', 1)[0] for line in lines]
    assert kinds.count(b"election.key_share") == (trustees[0] if trustees else 0)
