"""``veche verify`` over a whole election, and every way a dishonest server could cheat.

Each tampering is done to a copy of an honest log by someone holding the authority key
(the server itself): the chain is rebuilt and the checkpoint re-signed, so the log as a
log verifies, and only the election checks can catch the lie. Each must fail and name
the entry concerned.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from audit.core.canonical import b64url_decode, b64url_encode, decode_canonical
from audit.core.export import KeyInfo
from audit.core.verify import verify_log
from ballot.core import kinds, seal
from ballot.core.ballot import sign_ballot
from ballot.core.config import to_json
from ballot.core.verify import check_elections
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import run_election
from tests.support.operator import Entries, of_kind, rebuild, resign_result
from veche.commands import export_local_log
from veche.kinds import entry_kinds

KINDS = entry_kinds()


@pytest.fixture(name="honest")
def fx_honest(
    client: Client, app: Litestar, settings: Settings, tmp_path: Path
) -> tuple[Entries, Ed25519PrivateKey, Settings]:
    election_id, _choices = run_election(client, app, settings, {"name": "greedy"}, voters=12)
    admin = login(client, "admin@example.org")
    assert client.post(f"/api/v1/elections/{election_id}/tally", headers=admin).status_code == 201
    export = tmp_path / "honest"
    export_local_log(settings, export)
    lines = (export / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    return [decode_canonical(line) for line in lines], app.state.authority_key, settings  # type: ignore[misc]


def run_checks(directory: Path, settings: Settings) -> tuple[bool, list[tuple[int | None, str]]]:
    log_report = verify_log(
        directory,
        pinned_verifier_key=KeyInfo.from_private_key(settings.origin, _key(settings)).verifier_key,
        kinds=KINDS,
    )
    assert log_report.ok, log_report.failures  # the rebuilt log holds as a log
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    report = check_elections(lines, workers=1)
    return not report.failures, [(f.seq, f.code) for f in report.failures]


def _key(settings: Settings) -> Ed25519PrivateKey:
    from kernel.keys import load_authority_key

    return load_authority_key(settings.keys_dir)


def test_honest_election_verifies(
    honest: tuple[Entries, Ed25519PrivateKey, Settings], tmp_path: Path
) -> None:
    entries, key, settings = honest
    ok, failures = run_checks(rebuild(entries, key, settings.origin, tmp_path / "x"), settings)
    assert ok, failures
    report = check_elections(
        (tmp_path / "x" / "entries.ndjson").read_bytes().split(b"\n")[:-1], workers=1
    )
    (summary,) = report.elections
    assert summary.status == "tallied"
    assert summary.counted == 12
    assert summary.issued == 12
    assert summary.results_checked == 1

    done = subprocess.run(
        [sys.executable, "-m", "veche.cli", "verify", str(tmp_path / "x"), "--no-state"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ballots counted:        12" in done.stdout
    assert "OVERALL: OK" in done.stdout


def _changed_ballot(entries: Entries, key: Ed25519PrivateKey) -> int:
    at = of_kind(entries, kinds.BALLOT_CAST)[3]
    ballot = entries[at]["body"]["ballot"]
    sealed = bytearray(b64url_decode(ballot["sealed"]))
    sealed[-1] ^= 1
    entries[at]["body"]["ballot"] = {**ballot, "sealed": b64url_encode(bytes(sealed))}
    return at


def _dropped_ballot(entries: Entries, key: Ed25519PrivateKey) -> int:
    # Drop a voter's only ballot: the count changes, so the published result no longer holds.
    casts = of_kind(entries, kinds.BALLOT_CAST)
    credentials = [entries[k]["body"]["ballot"]["credential"] for k in casts]
    victim = next(k for k, c in zip(casts, credentials, strict=True) if credentials.count(c) == 1)
    del entries[victim]
    return of_kind(entries, kinds.RESULT_PUBLISHED)[0]


def _cast_after_close(entries: Entries, key: Ed25519PrivateKey) -> int:
    cast = entries[of_kind(entries, kinds.BALLOT_CAST)[0]]
    closed = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    entries.insert(closed + 1, dict(cast))
    return closed + 1


def _reused_token(entries: Entries, key: Ed25519PrivateKey) -> int:
    at = of_kind(entries, kinds.BALLOT_CAST)[0]
    ballot = dict(entries[at]["body"]["ballot"])
    stranger = Ed25519PrivateKey.generate()
    ballot["credential"] = b64url_encode(stranger.public_key().public_bytes_raw())
    parsed = msgspec.convert(ballot, kinds.Ballot)
    closed = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    entry = {**entries[at], "body": {"ballot": ballot, "signature": sign_ballot(stranger, parsed)}}
    entries.insert(closed, entry)
    # The operator moves the close along so that the smuggled ballot is counted.
    close = entries[closed + 1]
    close["body"] = {**close["body"], "checkpoint_size": close["body"]["checkpoint_size"] + 1}
    resign_result(entries, key, checkpoint_size=close["body"]["checkpoint_size"])
    return closed


def _forged_result(entries: Entries, key: Ed25519PrivateKey) -> int:
    at = of_kind(entries, kinds.RESULT_PUBLISHED)[0]
    winners = list(entries[at]["body"]["winners"])
    return resign_result(
        entries,
        key,
        winners=[*reversed(winners), "bench"] if "bench" not in winners else winners[:-1],
    )


def _wrong_lot_secret(entries: Entries, key: Ed25519PrivateKey) -> int:
    return resign_result(entries, key, lot_secret=b64url_encode(b"\x07" * 32))


def _wrong_sealing_key(entries: Entries, key: Ed25519PrivateKey) -> int:
    at = of_kind(entries, kinds.ELECTION_UNSEALED)[0]
    other, _public = seal.generate_keypair()
    entries[at]["body"]["sealing_private_key"] = b64url_encode(other)
    return at


def test_a_close_naming_another_root_is_caught(
    honest: tuple[Entries, Ed25519PrivateKey, Settings], tmp_path: Path
) -> None:
    entries, key, settings = honest
    copy: Entries = msgspec.json.decode(msgspec.json.encode(entries))
    at = of_kind(copy, kinds.ELECTION_CLOSED)[0]
    copy[at]["body"]["checkpoint_root"] = "ab" * 32
    ok, failures = run_checks(
        rebuild(copy, key, settings.origin, tmp_path / "r", fix_close=False), settings
    )
    assert not ok
    assert (at, "bad_close_root") in failures


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (_changed_ballot, "bad_signature"),
        (_dropped_ballot, "result_mismatch"),
        (_cast_after_close, "after_close"),
        (_reused_token, "bad_token"),
        (_forged_result, "result_mismatch"),
        (_wrong_lot_secret, "bad_lot_secret"),
        (_wrong_sealing_key, "wrong_sealing_key"),
    ],
)
def test_every_cheat_is_caught_and_named(
    honest: tuple[Entries, Ed25519PrivateKey, Settings],
    tmp_path: Path,
    tamper: Callable[[Entries, Ed25519PrivateKey], int],
    code: str,
) -> None:
    entries, key, settings = honest
    copy: Entries = msgspec.json.decode(msgspec.json.encode(entries))
    seq = tamper(copy, key)
    ok, failures = run_checks(rebuild(copy, key, settings.origin, tmp_path / "t"), settings)
    assert not ok
    assert (seq, code) in failures, failures


def test_manifest_round_trip_is_stable(honest: tuple[Entries, Ed25519PrivateKey, Settings]) -> None:
    entries, _key, _settings = honest
    body = entries[of_kind(entries, kinds.ELECTION_OPENED)[0]]["body"]
    parsed = msgspec.convert(body, kinds.ElectionOpened)
    assert to_json(parsed.manifest) == body["manifest"]
