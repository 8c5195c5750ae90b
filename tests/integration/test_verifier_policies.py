"""The verifier enforces the manifest's policies (docs/protocol.md §10.4): re-voting off
means one ballot per credential, even when the operator appends a second one itself.

The operator holds the database and the keys: it appends, through its own log, a second
ballot of a credential in an election without re-voting (the voter's, so every signature
checks). The chain is intact; only the policy check can catch it. The server refuses to
publish over it, and ``veche verify`` names the entry and counts the first ballot.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar import Litestar
from sqlalchemy.orm import Session

from audit.core.entry import parse_entry
from audit.services.store import BatchLog
from ballot.core import kinds, record
from ballot.core.ballot import ballot_json, make_ballot
from ballot.core.client import ClientError, VoterClient
from ballot.core.verify import check_elections
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client, login
from tests.support.elections import EARLY_CLOSE, config
from veche.commands import export_local_log
from veche.kinds import entry_kinds
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user

KINDS = entry_kinds()


def _run(client: Client, app: Litestar, settings: Settings, *, revoting: bool) -> dict[str, Any]:
    """Two voters vote once each; then the operator appends the first voter's second
    ballot itself; the election is closed. What the test needs of it."""
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    create_user(settings, app.state.engine, NewUser("admin@example.org", PASSWORD, "A", "admin"))
    admin = login(client, "admin@example.org")
    cfg = config(
        "no-revote",
        revoting=revoting,
        eligibility={"residents": False, "roll": True, "access_codes": True},
    )
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    roll = "voter_id\nA\nB\n"
    headers = {**admin, "content-type": "text/csv"}
    added = client.post("/api/v1/elections/no-revote/roll", content=roll, headers=headers)
    assert added.status_code == 201, added.text
    # The codes are made while a draft: the roll and its codes freeze when it opens.
    codes = client.post("/api/v1/elections/no-revote/access-codes", headers=admin).text
    assert client.post("/api/v1/elections/no-revote/open", headers=admin).status_code == 200
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election("no-revote", allow_test_keys=True)
    wallets = []
    for line in codes.strip().split("\n")[1:]:
        wallet = voter.obtain_credential(info, access_code=line.split(",")[1])
        voter.cast(info, wallet, {"approve": ["park"]})
        wallets.append(wallet)
    first = wallets[0]
    if not revoting:  # the server itself refuses the second ballot
        try:
            voter.cast(info, first, {"approve": ["library"]})
            raise AssertionError("a second ballot was accepted without re-voting")
        except ClientError as refused:
            assert refused.code == "already_voted"
    # The operator appends it anyway, straight into its log.
    assert first.token is not None
    ballot, signature = make_ballot(
        info.manifest,
        first.private_key,
        first.token,
        {"approve": ["library"]},
        os.urandom,
        counter=first.counter + 1,  # the credential's next: only the policy refuses it
    )

    def append(_db: Session, log: BatchLog) -> int:
        body = {"ballot": ballot_json(ballot), "signature": signature}
        return log.append(kinds.BALLOT_CAST, body).seq

    seq = app.state.sequencer.run(append).result
    admin = login(client, "admin@example.org")
    closed = client.post("/api/v1/elections/no-revote/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    return {"seq": seq, "credential": first.credential, "admin": admin, "hash": info.hash}


def _lines(settings: Settings, directory: Path) -> list[bytes]:
    export_local_log(settings, directory)
    return (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]


def test_a_second_ballot_without_revoting_is_flagged_and_not_counted(
    client: Client, app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    made = _run(client, app, settings, revoting=False)
    lines = _lines(settings, tmp_path / "log")
    report = check_elections(lines, workers=1)
    assert [(f.seq, f.code) for f in report.failures] == [(made["seq"], "revote_not_allowed")]
    # The count keeps the credential's first ballot.
    records, _orphans = record.gather(parse_entry(line, KINDS) for line in lines)
    counted = record.count(records[made["hash"]])
    choices = {credential: list(c.approve) for _s, credential, c, _sig in counted.counted}
    assert choices[made["credential"]] == ["park"]
    assert len(counted.counted) == 2
    # The server will not publish over it, and veche verify fails naming the entry.
    refused = client.post("/api/v1/elections/no-revote/tally", headers=made["admin"])
    assert refused.status_code == 500
    assert refused.json()["error"] == "inconsistent_log"
    done = subprocess.run(
        [sys.executable, "-m", "veche.cli", "verify", str(tmp_path / "log"), "--no-state"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert f"seq {made['seq']}: revote_not_allowed" in done.stdout


def test_with_revoting_the_last_ballot_counts(
    client: Client, app: Litestar, settings: Settings, tmp_path: Path
) -> None:
    made = _run(client, app, settings, revoting=True)
    lines = _lines(settings, tmp_path / "log")
    assert check_elections(lines, workers=1).failures == []
    records, _orphans = record.gather(parse_entry(line, KINDS) for line in lines)
    counted = record.count(records[made["hash"]])
    choices = {credential: list(c.approve) for _s, credential, c, _sig in counted.counted}
    assert choices[made["credential"]] == ["library"]
    assert counted.superseded == 1
