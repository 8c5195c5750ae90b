"""Voting against a real ``veche serve`` process, on SQLite and PostgreSQL.

Three hundred voters (residents who log in, and holders of access codes from a roll)
vote concurrently through the Python client, thirty of them vote again, the admin closes
the election, and the exported log alone must show it all: the chain verifies, one
``credential.issued`` per voter, every ballot once, and after the unsealing every ballot
opens and the last ballot of each credential says what its voter last chose. Then
``veche vote`` itself is run as a voter would run it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import stat
import subprocess
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from audit.core.canonical import b64url_decode
from ballot.core.choices import parse_sealed_plaintext
from ballot.core.client import ElectionInfo, VoterClient, Wallet
from ballot.core.seal import open_sealed
from kernel.db import make_engine
from kernel.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.elections import EARLY_CLOSE, when
from tests.support.server import LiveServer, veche
from veche.pgtemp import free_port
from veche.setup import NewUser, create_user

RESIDENTS = 100
CODE_HOLDERS = 200
REVOTERS = 30
PROJECTS = ["park", "library", "playground", "lights", "trees"]


def election_config(election_id: str) -> dict[str, Any]:
    return {
        "id": election_id,
        "title": "Centre 2026",
        "district": "centre",
        "budget": 1_000_000,
        "currency": "RUB",
        "projects": [
            {"id": "park", "title": "Park", "cost": 300_000},
            {"id": "library", "title": "Library", "cost": 250_000},
            {"id": "playground", "title": "Playground", "cost": 200_000},
            {"id": "lights", "title": "Lights", "cost": 150_000},
            {"id": "trees", "title": "Trees", "cost": 100_000},
        ],
        "ballot": {
            "kind": "approval",
            "min_projects": 1,
            "max_projects": 3,
            "max_total_cost": 1_000_000,
        },
        "rule": {"name": "mes", "completion": "add1"},
        "window": {"opens_at": when(-5), "closes_at": when(60)},
        "eligibility": {"residents": False, "roll": True, "access_codes": True},
        "rsa_key_bits": 1024,
    }


def add_accounts(settings: Settings, users: list[NewUser]) -> None:
    engine = make_engine(settings)
    try:
        for user in users:
            create_user(settings, engine, user)
    finally:
        engine.dispose()


def logged_in(http: httpx.Client, email: str) -> dict[str, str]:
    response = http.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


@dataclass
class Election:
    id: str
    codes: list[str]
    admin: httpx.Client


def open_election(
    server: LiveServer, election_id: str, roll_size: int, emails: Sequence[str] = ()
) -> Election:
    """Create the election as the admin over HTTP, with a roll of ``roll_size`` people
    given access codes and of ``emails`` (who log in with confirmed addresses), make the
    codes and open it."""
    add_accounts(server.settings, [NewUser("admin@example.org", PASSWORD, "Admin", "admin")])
    admin = httpx.Client(base_url=server.url, timeout=120)
    admin.headers.update(logged_in(admin, "admin@example.org"))
    created = admin.post("/api/v1/elections", json=election_config(election_id))
    assert created.status_code == 201, created.text
    roll = "voter_id,email\n" + "".join(f"R{n:04d},\n" for n in range(roll_size))
    roll += "".join(f"E{n:04d},{email}\n" for n, email in enumerate(emails))
    imported = admin.post(
        f"/api/v1/elections/{election_id}/roll",
        content=roll.encode(),
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    made = admin.post(f"/api/v1/elections/{election_id}/access-codes")
    assert made.status_code == 201, made.text
    by_ref = dict(line.split(",") for line in made.text.strip().split("\n")[1:])
    codes = [by_ref[f"R{n:04d}"] for n in range(roll_size)]
    opened = admin.post(f"/api/v1/elections/{election_id}/open")
    assert opened.status_code == 200, opened.text
    return Election(election_id, codes, admin)


@dataclass
class Voter:
    number: int
    email: str | None = None
    code: str | None = None
    wallet: Wallet | None = None
    chosen: list[list[str]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)


def choose(rng: random.Random) -> list[str]:
    return rng.sample(PROJECTS, rng.randint(1, 3))


def export(url: str, directory: Path) -> list[bytes]:
    done = veche("export", "log", str(directory), "--url", url)
    assert done.returncode == 0, done.stderr
    verified = veche("verify", str(directory), "--no-state")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return (directory / "entries.ndjson").read_bytes().split(b"\n")[:-1]


@pytest.mark.slow
def test_three_hundred_voters_and_the_log_shows_every_ballot(
    live_server: LiveServer, tmp_path: Path
) -> None:
    settings = live_server.settings
    voters = [Voter(n, email=f"resident{n}@example.org") for n in range(RESIDENTS)]
    add_accounts(
        settings,
        [
            NewUser(str(v.email), PASSWORD, f"Resident {v.number}", "resident", "centre", True)
            for v in voters
        ],
    )
    election = open_election(
        live_server, "centre-2026", CODE_HOLDERS, [str(v.email) for v in voters]
    )
    voters += [Voter(RESIDENTS + n, code=code) for n, code in enumerate(election.codes)]
    rng = random.Random(2026)
    for voter in voters:
        voter.chosen.append(choose(rng))
    revoters = rng.sample(voters, REVOTERS)
    for voter in revoters:
        voter.chosen.append(choose(rng))

    info_holder: list[ElectionInfo] = []
    info_lock = threading.Lock()

    def election_info(client: VoterClient) -> ElectionInfo:
        # Every voter checks the manifest; the first answer is kept to compare with.
        info = client.election(election.id, allow_test_keys=True)
        with info_lock:
            if not info_holder:
                info_holder.append(info)
        assert info.hash == info_holder[0].hash
        return info

    def first_vote(voter: Voter) -> None:
        with httpx.Client(base_url=live_server.url, timeout=120) as http:
            client = VoterClient(http)
            info = election_info(client)
            if voter.email is not None:
                voter.wallet = client.obtain_credential(info, headers=logged_in(http, voter.email))
            else:
                voter.wallet = client.obtain_credential(info, access_code=voter.code)
            http.cookies.clear()  # casting needs no log-in
            voter.receipts.append(client.cast(info, voter.wallet, {"approve": voter.chosen[0]}))

    def revote(voter: Voter) -> None:
        assert voter.wallet is not None
        with httpx.Client(base_url=live_server.url, timeout=120) as http:
            client = VoterClient(http)
            info = election_info(client)
            voter.receipts.append(client.cast(info, voter.wallet, {"approve": voter.chosen[1]}))

    with ThreadPoolExecutor(24) as pool:
        list(pool.map(first_vote, voters))
        list(pool.map(revote, revoters))

    with closing(election.admin) as admin:
        closed = admin.post(f"/api/v1/elections/{election.id}/close", json=EARLY_CLOSE)
        assert closed.status_code == 200, closed.text
        assert closed.json()["status"] == "closed"
        published = admin.post(f"/api/v1/elections/{election.id}/tally")
        assert published.status_code == 201, published.text
        assert published.json()["counted"] == RESIDENTS + CODE_HOLDERS

    # The whole election, from the log alone: every ballot, the count, the result.
    verified = veche("verify", live_server.url, "--no-state", "--json")
    assert verified.returncode == 0, verified.stdout[-3000:]
    report = json.loads(verified.stdout)
    (summary,) = report["elections"]
    assert summary["counted"] == RESIDENTS + CODE_HOLDERS
    assert summary["superseded"] == REVOTERS
    assert summary["results_checked"] == 1
    assert summary["winners"] == published.json()["winners"]

    lines = export(live_server.url, tmp_path / "export")
    entries = [json.loads(line) for line in lines]
    kinds = [entry["kind"] for entry in entries]
    assert kinds.count("credential.issued") == RESIDENTS + CODE_HOLDERS
    assert kinds.count("ballot.cast") == RESIDENTS + CODE_HOLDERS + REVOTERS
    assert kinds[-3:] == ["election.closed", "election.unsealed", "result.published"]

    receipts = [r for voter in voters for r in voter.receipts]
    assert len(receipts) == RESIDENTS + CODE_HOLDERS + REVOTERS
    assert len({r["seq"] for r in receipts}) == len(receipts)
    for receipt in receipts:
        line = lines[receipt["seq"]]
        assert entries[receipt["seq"]]["kind"] == "ballot.cast"
        assert hashlib.sha256(b"\x00" + line).hexdigest() == receipt["leaf_hash"]
    # Every ballot is in the log once: no body appears twice.
    bodies = [line for line, e in zip(lines, entries, strict=True) if e["kind"] == "ballot.cast"]
    signatures = [json.loads(b)["body"]["signature"] for b in bodies]
    assert len(set(signatures)) == len(signatures)

    manifest_hash = info_holder[0].hash
    unsealed = entries[-2]["body"]
    assert unsealed["election"] == manifest_hash
    key = b64url_decode(unsealed["sealing_private_key"])
    last: dict[str, list[str]] = {}
    closed_at = entries[-3]["body"]["checkpoint_size"]
    for entry in entries[:closed_at]:
        if entry["kind"] != "ballot.cast":
            continue
        ballot = entry["body"]["ballot"]
        assert ballot["election"] == manifest_hash
        # Each seal is bound to its credential (docs/protocol.md §2.12).
        plain = open_sealed(
            key,
            bytes.fromhex(manifest_hash),
            b64url_decode(ballot["sealed"]),
            b64url_decode(ballot["credential"]),
        )
        choices, _nonce = parse_sealed_plaintext(plain)
        last[ballot["credential"]] = sorted(choices["approve"])
    assert len(last) == RESIDENTS + CODE_HOLDERS
    for voter in voters:
        assert voter.wallet is not None
        assert last[voter.wallet.credential] == sorted(voter.chosen[-1]), voter.number


def run_vote(
    url: str, *args: str, home: Path, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(home)}
    env.pop("VECHE_PASSWORD", None)
    if password is not None:
        env["VECHE_PASSWORD"] = password
    return veche("vote", url, *args, "--delay", "0", env=env)


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().split("\n")
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("veche: error: ")
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.slow
def test_veche_vote_command(live_server: LiveServer, tmp_path: Path) -> None:
    url = live_server.url
    add_accounts(
        live_server.settings,
        [NewUser("vera@example.org", PASSWORD, "Vera", "resident", "centre", True)],
    )
    election = open_election(live_server, "centre-2026", 3, ["vera@example.org"])
    election.admin.close()
    home = tmp_path / "home"
    common = ("--election", election.id, "--allow-test-keys")

    # With an access code: the wallet lands in the data directory, readable only by its owner.
    first = run_vote(
        url, *common, "--approve", "park,library", "--code", election.codes[0], home=home
    )
    assert first.returncode == 0, first.stderr
    host = f"127.0.0.1_{url.rsplit(':', 1)[1]}"
    wallet_path = home / "veche" / "wallets" / host / f"{election.id}.json"
    assert str(wallet_path) in first.stdout
    assert stat.S_IMODE(wallet_path.stat().st_mode) == 0o600
    wallet = Wallet.load(wallet_path)
    assert len(wallet.receipts) == 1
    assert f"log entry {wallet.receipts[0]['seq']}" in first.stdout

    # Again from the same wallet: no code needed, the credential is reused (a re-vote).
    again = run_vote(url, *common, "--approve", "trees", home=home)
    assert again.returncode == 0, again.stderr
    assert "Re-voted" in again.stdout
    rewallet = Wallet.load(wallet_path)
    assert rewallet.credential == wallet.credential
    assert len(rewallet.receipts) == 2
    assert rewallet.receipts[1]["seq"] > rewallet.receipts[0]["seq"]

    # With an account (password from VECHE_PASSWORD) and a wallet of one's own choosing.
    mine = tmp_path / "vera.json"
    account = run_vote(
        url,
        *common,
        "--approve",
        "lights",
        "--email",
        "vera@example.org",
        "--wallet",
        str(mine),
        home=home,
        password=PASSWORD,
    )
    assert account.returncode == 0, account.stderr
    assert stat.S_IMODE(mine.stat().st_mode) == 0o600
    assert Wallet.load(mine).credential != wallet.credential

    # Refusals: one line each, exit status 1, and a spent code stays unspent on a mistake.
    other = tmp_path / "other-home"
    one_line_error(
        run_vote(url, "--election", "nope", "--approve", "park", "--code", "X", home=other),
        "no_such_election",
    )
    one_line_error(
        run_vote(
            url, *common, "--approve", "park", "--code", "AAAAA-BBBBB-CCCCC-DDDDD", home=other
        ),
        "bad_access_code",
    )
    one_line_error(
        run_vote(url, *common, "--approve", "castle", "--code", election.codes[1], home=other),
        "unknown_project",
    )
    one_line_error(
        run_vote(url, *common, "--approve", "park", "--code", election.codes[0], home=other),
        "already_issued",
    )
    one_line_error(
        run_vote(url, *common, "--approve", "park", "--email", "vera@example.org", home=other),
        "VECHE_PASSWORD",
    )
    one_line_error(
        run_vote(url, "--election", election.id, "--approve", "park", home=other),
        "--allow-test-keys",
    )
    one_line_error(
        run_vote(f"http://127.0.0.1:{free_port()}", *common, "--approve", "park", home=other),
        "cannot reach",
    )
    # The code that met a refused choice still works.
    fine = run_vote(url, *common, "--approve", "park", "--code", election.codes[1], home=other)
    assert fine.returncode == 0, fine.stderr
