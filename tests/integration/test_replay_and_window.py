"""Replayed and copied ballots, and the voting window, tried as an attacker would.

docs/protocol.md §7.6 (the server), §9.1 (closing), §9.3 and §10.4 (the count and the
verifier). The server refuses a ballot that is not its credential's next one and a seal
copied under another credential, through the service and through HTTP; it refuses to
close before the window's end unless told it is an early close, with a reason it logs.
Then an operator who holds the database and every key forges the log -- a replayed
older ballot, a duplicated ballot, a voter's seal copied under a credential it certified
for itself, ballots stamped outside the window, an early close with its reason removed
-- re-chains it and signs it again: ``veche verify`` names each by ``seq``, and the
count keeps each voter's own newest choice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from audit.core.canonical import b64url_encode, decode_canonical
from audit.core.export import KeyInfo
from audit.core.verify import verify_log
from ballot.core import kinds, record
from ballot.core.ballot import ballot_json, make_ballot
from ballot.core.choices import BallotConflict, BallotRejected
from ballot.core.client import ClientError, VoterClient, Wallet
from ballot.core.verify import check_elections, election_entries
from kernel.keys import load_authority_key
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import EARLY_CLOSE, config, log_lines
from tests.support.operator import (
    Entries,
    copied_seal,
    insert_before_close,
    issue_token,
    of_kind,
    rebuild,
)
from veche.commands import export_local_log
from veche.kinds import entry_kinds

KINDS = entry_kinds()
ELECTION = "centre-2026"
PARK, LIBRARY, PLAYGROUND = (
    {"approve": ["park"]},
    {"approve": ["library"]},
    {"approve": ["playground"]},
)
REASON = "A storm closed the polling stations"


def open_code_election(client: Client, admin: dict[str, str], voters: int) -> list[str]:
    """An open election whose roll of ``voters`` votes with one-time access codes."""
    cfg = config(ELECTION, eligibility={"residents": False, "roll": True, "access_codes": True})
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    roll = "voter_id\n" + "".join(f"V{n}\n" for n in range(voters))
    made = client.post(
        f"/api/v1/elections/{ELECTION}/roll",
        content=roll.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert made.status_code == 201, made.text
    # The codes are made while a draft: the roll and its codes freeze when it opens.
    codes = client.post(f"/api/v1/elections/{ELECTION}/access-codes", headers=admin).text
    assert client.post(f"/api/v1/elections/{ELECTION}/open", headers=admin).status_code == 200
    client.cookies.clear()
    return [line.split(",")[1] for line in codes.strip().split("\n")[1:]]


@pytest.fixture(name="codes")
def fx_codes(client: Client, admin: dict[str, str]) -> list[str]:
    return open_code_election(client, admin, 4)


def cast_raw(client: Client, body: dict[str, Any]) -> httpx.Response:
    """POST a ballot body as it is, with no cookie."""
    client.cookies.clear()
    return client.post(f"/api/v1/elections/{ELECTION}/ballots", json=body)


def ballot_entries(client: Client) -> list[dict[str, Any]]:
    return [
        entry
        for entry in (decode_canonical(line) for line in log_lines(client))
        if isinstance(entry, dict) and entry["kind"] == kinds.BALLOT_CAST
    ]


# --- the server ---------------------------------------------------------------------------


def test_an_older_ballot_after_a_newer_one_is_refused_and_a_resend_appends_nothing(
    client: Client, app: Litestar, codes: list[str]
) -> None:
    voter = VoterClient(client)
    info = voter.election(ELECTION, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=codes[0])
    # A ballot numbered 1 that the voter's client signed but that was not the one sent
    # (another device, or one an attacker intercepted): it must not count later.
    older, older_signature = make_ballot(
        info.manifest, wallet.private_key, wallet.token or {}, PARK, os.urandom, counter=1
    )
    first = voter.cast(info, wallet, LIBRARY)
    second = voter.cast(info, wallet, PLAYGROUND)
    assert wallet.counter == 2
    size = len(log_lines(client))

    refused = cast_raw(client, {"ballot": ballot_json(older), "signature": older_signature})
    assert refused.status_code == 409
    assert refused.json()["error"] == "wrong_counter"
    assert "next counter" in refused.json()["detail"]
    # The very ballot number 1 that was logged, sent again (anyone can copy it from the
    # log): its first receipt, and nothing appended.
    logged = ballot_entries(client)
    again = cast_raw(client, logged[0]["body"])
    assert again.status_code == 201, again.text
    assert again.json()["seq"] == first["seq"]
    assert len(log_lines(client)) == size

    # The same through the service, without HTTP.
    service = app.state.elections
    live = service.live_for(ELECTION)
    pending = service.submit_cast(live, ballot_json(older), older_signature)
    with pytest.raises(BallotConflict) as caught:
        pending.future.result(timeout=60)
    assert caught.value.code == "wrong_counter"
    # A second, different ballot number 2 (a fork), and a number that skips one.
    for counter in (2, 4):
        ballot, signature = make_ballot(
            info.manifest, wallet.private_key, wallet.token or {}, PARK, os.urandom, counter=counter
        )
        pending = service.submit_cast(live, ballot_json(ballot), signature)
        with pytest.raises(BallotConflict) as caught:
            pending.future.result(timeout=60)
        assert caught.value.code == "wrong_counter"
        answer = cast_raw(client, {"ballot": ballot_json(ballot), "signature": signature})
        assert (answer.status_code, answer.json()["error"]) == (409, "wrong_counter")
    assert len(log_lines(client)) == size

    admin = login(client, "admin@example.org")
    assert (
        client.post(
            f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE, headers=admin
        ).status_code
        == 200
    )
    rec = next(iter(record.gather(election_entries(log_lines(client)))[0].values()))
    count = record.count(rec)
    assert count.rejected == [] and count.anomalies == []
    assert [(seq, record.tally_ballot(c).approve) for seq, _cr, c, _s in count.counted] == [  # type: ignore[union-attr]
        (second["seq"], ("playground",))
    ]


def test_a_seal_copied_under_another_credential_is_refused(
    client: Client, app: Litestar, codes: list[str]
) -> None:
    voter = VoterClient(client)
    info = voter.election(ELECTION, allow_test_keys=True)
    victim = voter.obtain_credential(info, access_code=codes[0])
    voter.cast(info, victim, PLAYGROUND)
    # The attacker votes legitimately with its own access code, then copies the
    # victim's sealed choices from the public log into a ballot of its own credential.
    attacker = voter.obtain_credential(info, access_code=codes[1])
    stolen = ballot_entries(client)[0]["body"]
    body = copied_seal(stolen, attacker.private_key, attacker.token or {}, counter=1)
    size = len(log_lines(client))
    answer = cast_raw(client, body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_seal"
    with pytest.raises(BallotRejected) as caught:
        app.state.elections.submit_cast(
            app.state.elections.live_for(ELECTION), body["ballot"], body["signature"]
        )
    assert caught.value.code == "bad_seal"
    assert len(log_lines(client)) == size
    # A ballot of the old format (no counter, seal bound to the election only) is not a
    # way round it: this election takes version 2 only.
    old = {k: v for k, v in body["ballot"].items() if k not in ("counter", "v")}
    answer = cast_raw(client, {"ballot": old, "signature": body["signature"]})
    assert (answer.status_code, answer.json()["error"]) == (400, "wrong_ballot_version")


def test_a_client_that_lost_its_counter_asks_for_the_next_one(
    client: Client, codes: list[str]
) -> None:
    voter = VoterClient(client)
    info = voter.election(ELECTION, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=codes[0])
    assert voter.next_counter(info, wallet.credential) == 1
    voter.cast(info, wallet, PARK)
    voter.cast(info, wallet, LIBRARY)
    path = f"/api/v1/elections/{ELECTION}/credentials/{wallet.credential}/next"
    told = client.get(path)
    assert told.json() == {"credential": wallet.credential, "next": 3}
    # A new device: the same credential and token, no counter, no receipts.
    fresh = Wallet.from_json(
        {k: v for k, v in wallet.to_json().items() if k not in ("counter", "receipts")}
    )
    assert fresh.counter == 0
    receipt = voter.cast(info, fresh, PLAYGROUND)
    assert fresh.counter == 3
    assert ballot_entries(client)[-1]["body"]["ballot"]["counter"] == 3
    assert receipt["seq"] == len(log_lines(client)) - 1

    for bad, status, code in [
        (f"/api/v1/elections/{ELECTION}/credentials/not-a-key/next", 400, "bad_credential"),
        (f"/api/v1/elections/nowhere/credentials/{wallet.credential}/next", 404, None),
    ]:
        answer = client.get(bad)
        assert answer.status_code == status, answer.text
        if code:
            assert answer.json()["error"] == code
    draft = config("draft-2026")
    admin = login(client, "admin@example.org")
    assert client.post("/api/v1/elections", json=draft, headers=admin).status_code == 201
    client.cookies.clear()
    answer = client.get(f"/api/v1/elections/draft-2026/credentials/{wallet.credential}/next")
    assert (answer.status_code, answer.json()["error"]) == (409, "not_open")


class LyingServer:
    """The server, except that it refuses every ballot as not the next one and claims
    the credential has cast fewer ballots than the voter's wallet knows."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.asked: list[str] = []

    def get(self, url: str, **kwargs: Any) -> Any:
        if url.endswith("/next"):
            self.asked.append(url)
            credential = url.split("/")[-2]
            return httpx.Response(200, json={"credential": credential, "next": 1})
        return self.client.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        if url.endswith("/ballots"):
            error = {"error": "wrong_counter", "detail": "not the next one"}
            return httpx.Response(409, json=error)
        return self.client.post(url, **kwargs)


def test_the_client_does_not_go_back_when_a_server_hides_ballots(
    client: Client, codes: list[str]
) -> None:
    honest = VoterClient(client)
    info = honest.election(ELECTION, allow_test_keys=True)
    wallet = honest.obtain_credential(info, access_code=codes[0])
    honest.cast(info, wallet, PARK)
    honest.cast(info, wallet, LIBRARY)
    lying = LyingServer(client)
    with pytest.raises(ClientError) as caught:
        VoterClient(lying).cast(info, wallet, PLAYGROUND)
    assert caught.value.code == "wrong_counter"
    assert "already cast 2" in caught.value.detail
    assert len(lying.asked) == 1
    assert wallet.counter == 2 and len(wallet.receipts) == 2


# --- the window ----------------------------------------------------------------------------


def test_closing_before_the_window_ends_needs_an_early_close_with_a_reason(
    client: Client, codes: list[str], settings: Settings, tmp_path: Path
) -> None:
    admin = login(client, "admin@example.org")
    close = f"/api/v1/elections/{ELECTION}/close"
    refused = client.post(close, headers=admin)
    assert refused.status_code == 409
    assert refused.json()["error"] == "window_open"
    assert "early close" in refused.json()["detail"]
    for body, status, code in [
        ({"early": True}, 400, "reason_required"),
        ({"early": True, "reason": "   "}, 400, "reason_required"),
        ({"early": True, "reason": "x" * 501}, 400, "bad_reason"),
        ({"early": True, "reason": "line\nbreak"}, 400, "bad_reason"),
        ({"early": False, "reason": REASON}, 409, "window_open"),
        ({"reason": REASON}, 409, "window_open"),
        ({"early": "yes", "reason": REASON}, 400, "invalid_input"),
        ({"early": True, "reason": REASON, "who": "me"}, 400, "invalid_input"),
    ]:
        answer = client.post(close, json=body, headers=admin)
        assert (answer.status_code, answer.json()["error"]) == (status, code), body
    assert client.get(f"/api/v1/elections/{ELECTION}").json()["status"] == "open"

    closed = client.post(close, json={"early": True, "reason": f"  {REASON} "}, headers=admin)
    assert closed.status_code == 200, closed.text
    entries = [decode_canonical(line) for line in log_lines(client)]
    (close_entry,) = [e for e in entries if isinstance(e, dict) and e["kind"] == "election.closed"]
    assert close_entry["body"]["reason"] == REASON  # trimmed

    export = tmp_path / "export"
    export_local_log(settings, export)
    done = veche_verify(export, settings, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    (summary,) = report["elections"]
    assert summary["early_close"]["reason"] == REASON
    assert summary["early_close"]["seq"] == close_entry["seq"]
    text = veche_verify(export, settings)
    assert f"early close reason:     {REASON!r}" in text.stdout
    assert "closed early:" in text.stdout


def test_after_the_window_ends_a_close_needs_no_reason(
    client: Client, app: Litestar, codes: list[str]
) -> None:
    admin = login(client, "admin@example.org")
    closes_at = datetime.fromisoformat(config()["window"]["closes_at"])
    later = closes_at + timedelta(minutes=1)
    service, store = app.state.elections, app.state.log_store
    real_clock, real_store_clock = service.lifecycle.clock, store.clock
    service.lifecycle.clock = lambda: later
    store.clock = lambda: later.timestamp()
    try:
        closed = client.post(f"/api/v1/elections/{ELECTION}/close", headers=admin)
    finally:
        service.lifecycle.clock, store.clock = real_clock, real_store_clock
    assert closed.status_code == 200, closed.text
    (close_entry,) = [
        e
        for e in (decode_canonical(line) for line in log_lines(client))
        if isinstance(e, dict) and e["kind"] == "election.closed"
    ]
    assert "reason" not in close_entry["body"]
    assert close_entry["at"] >= config()["window"]["closes_at"]


def test_the_admin_page_asks_for_the_early_close_and_its_reason(
    client: Client, codes: list[str]
) -> None:
    admin = login(client, "admin@example.org")
    html = {"accept": "text/html"}
    page = client.get("/admin/setup", headers={**admin, **html})
    assert 'name="early"' in page.text and 'name="reason"' in page.text
    csrf = admin["X-CSRF-Token"]
    unconfirmed = client.post(
        f"/admin/setup/{ELECTION}/close", headers={**admin, **html}, data={"csrf_token": csrf}
    )
    assert unconfirmed.status_code == 400
    assert "early close" in unconfirmed.text
    no_reason = client.post(
        f"/admin/setup/{ELECTION}/close",
        headers={**admin, **html},
        data={"csrf_token": csrf, "early": "on", "reason": ""},
    )
    assert no_reason.status_code == 400
    assert client.get(f"/api/v1/elections/{ELECTION}").json()["status"] == "open"
    confirmed = client.post(
        f"/admin/setup/{ELECTION}/close",
        headers={**admin, **html},
        data={"csrf_token": csrf, "early": "on", "reason": REASON},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert client.get(f"/api/v1/elections/{ELECTION}").json()["status"] == "closed"


# --- the operator forges the log -------------------------------------------------------------


def veche_verify(
    directory: Path, settings: Settings, *extra: str
) -> subprocess.CompletedProcess[str]:
    key = KeyInfo.from_private_key(settings.origin, load_authority_key(settings.keys_dir))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "veche.cli",
            "verify",
            str(directory),
            "--no-state",
            "--key",
            key.verifier_key,
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(name="honest")
def fx_honest(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str], tmp_path: Path
) -> Iterator[tuple[Entries, dict[str, Wallet], Settings]]:
    """An election of four voters (the first votes twice), closed early with a reason and
    counted; its log as entries, and the voters' wallets."""
    codes = open_code_election(client, admin, 4)
    voter = VoterClient(client)
    info = voter.election(ELECTION, allow_test_keys=True)
    wallets: dict[str, Wallet] = {}
    for n, code in enumerate(codes):
        wallet = voter.obtain_credential(info, access_code=code)
        voter.cast(info, wallet, PARK)
        wallets[f"V{n}"] = wallet
    voter.cast(info, wallets["V0"], LIBRARY)
    admin = login(client, "admin@example.org")
    close = {"early": True, "reason": REASON}
    assert (
        client.post(f"/api/v1/elections/{ELECTION}/close", json=close, headers=admin).status_code
        == 200
    )
    assert client.post(f"/api/v1/elections/{ELECTION}/tally", headers=admin).status_code == 201
    export = tmp_path / "honest"
    export_local_log(settings, export)
    lines = (export / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    yield [decode_canonical(line) for line in lines], wallets, settings  # type: ignore[misc]


def forged(
    entries: Entries, settings: Settings, directory: Path
) -> tuple[list[tuple[int | None, str]], record.Count, list[bytes]]:
    """The operator's log re-chained and signed again: the election checks' failures,
    the count, and the lines."""
    key = load_authority_key(settings.keys_dir)
    rebuild(entries, key, settings.origin, directory)
    log_report = verify_log(
        directory,
        pinned_verifier_key=KeyInfo.from_private_key(settings.origin, key).verifier_key,
        kinds=KINDS,
    )
    assert log_report.ok, log_report.failures  # as a log it holds
    lines = (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    report = check_elections(lines, workers=1)
    rec = next(iter(record.gather(election_entries(lines))[0].values()))
    return [(f.seq, f.code) for f in report.failures], record.count(rec), lines


def cli_failures(directory: Path, settings: Settings) -> list[tuple[int | None, str]]:
    """What ``veche verify --json`` reports for the directory (it must fail)."""
    done = veche_verify(directory, settings, "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    return [(f["seq"], f["code"]) for f in report["failures"] + report["election_failures"]]


def casts_of(entries: Entries, credential: str) -> list[int]:
    return [
        k
        for k in of_kind(entries, kinds.BALLOT_CAST)
        if entries[k]["body"]["ballot"]["credential"] == credential
    ]


def counted_choice(count: record.Count, credential: str) -> tuple[int, tuple[str, ...]] | None:
    for seq, cred, choices, _sig in count.counted:
        if cred == credential:
            return seq, record.tally_ballot(choices).approve  # type: ignore[union-attr]
    return None


def test_the_honest_log_verifies_and_reports_the_early_close(
    honest: tuple[Entries, dict[str, Wallet], Settings], tmp_path: Path
) -> None:
    entries, wallets, settings = honest
    failures, count, _lines = forged(entries, settings, tmp_path / "x")
    assert failures == []
    assert counted_choice(count, wallets["V0"].credential) == (
        casts_of(entries, wallets["V0"].credential)[1],
        ("library",),
    )


def test_a_replayed_older_ballot_is_named_and_not_counted(
    honest: tuple[Entries, dict[str, Wallet], Settings], tmp_path: Path
) -> None:
    entries, wallets, settings = honest
    credential = wallets["V0"].credential
    first, newer = casts_of(entries, credential)
    close = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    seq = insert_before_close(entries, close, dict(entries[first]))
    failures, count, _lines = forged(entries, settings, tmp_path / "r")
    assert (seq, "replayed_ballot") in failures
    assert counted_choice(count, credential) == (newer, ("library",))
    # veche verify says so too, with the seq, in text and in JSON.
    done = veche_verify(tmp_path / "r", settings, "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert {"seq": seq, "code": "replayed_ballot"} in [
        {"seq": f["seq"], "code": f["code"]} for f in report["election_failures"]
    ]
    text = veche_verify(tmp_path / "r", settings)
    assert f"seq {seq}: replayed_ballot:" in text.stdout


def test_a_duplicated_ballot_is_named_and_counted_once(
    honest: tuple[Entries, dict[str, Wallet], Settings], tmp_path: Path
) -> None:
    entries, wallets, settings = honest
    credential = wallets["V1"].credential
    (only,) = casts_of(entries, credential)
    seq = insert_before_close(entries, only + 1, dict(entries[only]))
    failures, count, _lines = forged(entries, settings, tmp_path / "d")
    assert (seq, "duplicate_ballot") in failures
    assert (seq, "duplicate_ballot") in cli_failures(tmp_path / "d", settings)
    assert counted_choice(count, credential) == (only, ("park",))
    assert len(count.counted) == 4


def test_a_seal_copied_under_the_operators_own_credential_is_named_and_not_counted(
    honest: tuple[Entries, dict[str, Wallet], Settings], app: Litestar, tmp_path: Path
) -> None:
    entries, wallets, settings = honest
    live = app.state.elections.live_for(ELECTION)
    # The operator certifies a credential for itself with the election's RSA key, logs
    # its issuance, and copies voter V0's newest sealed choices into its ballot.
    own = Ed25519PrivateKey.generate()
    own_token = issue_token(live.signing_key, live.credential_key, live.hash, own)
    victim = entries[casts_of(entries, wallets["V0"].credential)[1]]["body"]
    close = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    issued = {
        **entries[close],
        "kind": kinds.CREDENTIAL_ISSUED,
        "body": {"election": live.hash, "commitment": "ab" * 32},
    }
    insert_before_close(entries, close, issued)
    copy = {
        **entries[close + 1],
        "kind": kinds.BALLOT_CAST,
        "body": copied_seal(victim, own, own_token),
    }
    seq = insert_before_close(entries, close + 1, copy)
    failures, count, _lines = forged(entries, settings, tmp_path / "c")
    assert (seq, "bad_seal") in failures
    assert (seq, "bad_seal") in cli_failures(tmp_path / "c", settings)
    assert counted_choice(count, b64url_encode(own.public_key().public_bytes_raw())) is None
    assert len(count.counted) == 4


def test_ballots_stamped_outside_the_window_are_named_and_not_counted(
    honest: tuple[Entries, dict[str, Wallet], Settings], tmp_path: Path
) -> None:
    entries, wallets, settings = honest
    close = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    closed_at = entries[close]["at"]
    early_ballot = casts_of(entries, wallets["V1"].credential)[0]
    late_ballot = casts_of(entries, wallets["V2"].credential)[0]
    after_close = casts_of(entries, wallets["V3"].credential)[0]
    opens_at = datetime.fromisoformat(
        entries[of_kind(entries, kinds.ELECTION_OPENED)[0]]["body"]["manifest"]["window"][
            "opens_at"
        ]
    )
    closes_at = entries[of_kind(entries, kinds.ELECTION_OPENED)[0]]["body"]["manifest"]["window"][
        "closes_at"
    ]
    entries[early_ballot]["at"] = (opens_at - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries[late_ballot]["at"] = closes_at
    # The election was closed early: a ballot stamped after that close, though the
    # operator placed it before the close in the log.
    moment = datetime.fromisoformat(closed_at) + timedelta(seconds=1)
    entries[after_close]["at"] = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    failures, count, _lines = forged(entries, settings, tmp_path / "w")
    assert (early_ballot, "not_open_yet") in failures
    assert (late_ballot, "closed") in failures
    assert (after_close, "closed") in failures
    reported = cli_failures(tmp_path / "w", settings)
    assert {
        (early_ballot, "not_open_yet"),
        (late_ballot, "closed"),
        (after_close, "closed"),
    } <= set(reported)
    assert {cred for _s, cred, _c, _sig in count.counted} == {wallets["V0"].credential}


def test_an_early_close_without_its_reason_is_named(
    honest: tuple[Entries, dict[str, Wallet], Settings], tmp_path: Path
) -> None:
    entries, _wallets, settings = honest
    close = of_kind(entries, kinds.ELECTION_CLOSED)[0]
    body = dict(entries[close]["body"])
    del body["reason"]
    entries[close] = {**entries[close], "body": body}
    failures, _count, _lines = forged(entries, settings, tmp_path / "e")
    assert (close, "unexplained_early_close") in failures
    done = veche_verify(tmp_path / "e", settings, "--json")
    assert done.returncode == 1
    (summary,) = json.loads(done.stdout)["elections"]
    assert summary["early_close"]["reason"] is None
    assert msgspec.json.decode(msgspec.json.encode(summary["early_close"]))["seq"] == close
