"""An election with trustees over HTTP, from the key ceremony to ``veche verify``
(docs/protocol.md §14), and the attacks on it: a dealing signed by someone who is not a
trustee, a replayed dealing, opening before the ceremony is complete, a wrong key share,
a ballot whose choices break the limits.

The trustees act through the functions of ``veche trustee`` (``ballot.cli.trustee``),
over the application's HTTP API, each with its own identity file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from audit.core.canonical import b64url_decode, b64url_encode, canonical_bytes
from audit.core.entry import parse_entry
from audit.core.export import KeyInfo
from ballot.cli.common import Refusal
from ballot.cli.trustee import (
    acknowledge,
    deal,
    load_identity,
    new_identity,
    public_part,
    release,
    save_identity,
)
from ballot.core import dkg, group, kinds, seal, threshold
from ballot.core.ballot import Ballot, BallotToken, ballot_json, sign_ballot
from ballot.core.client import VoterClient
from ballot.services.models import Election
from ballot.services.secret_box import SecretBox
from kernel.keys import load_or_create_secret
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import EARLY_CLOSE, config, log_lines
from veche.commands import export_local_log
from veche.kinds import entry_kinds

KINDS = entry_kinds()
ELECTION = "centre-2026"


def _trustees(tmp_path: Path, n: int = 3) -> list[Path]:
    paths = []
    for j in range(1, n + 1):
        path = tmp_path / f"trustee-{j}.json"
        save_identity(path, new_identity(f"Trustee {j}"), new=True)
        paths.append(path)
    return paths


def _create(client: Client, admin: dict[str, str], paths: list[Path], k: int, voters: int) -> str:
    members = [public_part(load_identity(p)) for p in paths]
    cfg = config(ELECTION, trustees={"threshold": k, "members": members})
    created = client.post("/api/v1/elections", json=cfg, headers=admin)
    assert created.status_code == 201, created.text
    roll = "voter_id\n" + "\n".join(f"V{k}" for k in range(voters)) + "\n"
    imported = client.post(
        f"/api/v1/elections/{ELECTION}/roll",
        content=roll.encode(),
        headers={**admin, "content-type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    return ELECTION


def _codes(client: Client, admin: dict[str, str]) -> list[str]:
    made = client.post(f"/api/v1/elections/{ELECTION}/access-codes", headers=admin)
    assert made.status_code == 201, made.text
    return [line.split(",")[1] for line in made.text.strip().split("\n")[1:]]


def _ceremony(client: Client, paths: list[Path]) -> None:
    for path in paths:
        deal(client, ELECTION, load_identity(path), os.urandom)
    for path in paths:
        acknowledge(client, ELECTION, load_identity(path), path)


def _open(client: Client, admin: dict[str, str]) -> Any:
    return client.post(f"/api/v1/elections/{ELECTION}/open", headers=admin)


def _spoiled_ballot(info: Any, wallet: Any) -> dict[str, Any]:
    """A ballot approving a project the election does not have, sealed with the core's
    sealing and properly signed: only the count can find it wrong."""
    assert wallet.token is not None
    plaintext = canonical_bytes(
        {"choices": {"approve": ["park", "stadium"]}, "nonce": b64url_encode(bytes(16))}
    )
    credential = wallet.private_key.public_key().public_bytes_raw()
    sealed = seal.seal(
        b64url_decode(info.manifest.sealing_key), bytes.fromhex(info.hash), plaintext, credential
    )
    ballot = Ballot(
        counter=1,
        credential=b64url_encode(credential),
        election=info.hash,
        sealed=b64url_encode(sealed),
        token=BallotToken(prefix=wallet.token["prefix"], signature=wallet.token["signature"]),
        v=2,
    )
    return {"ballot": ballot_json(ballot), "signature": sign_ballot(wallet.private_key, ballot)}


def _entries(client: Client) -> list[Any]:
    return [parse_entry(line, KINDS) for line in log_lines(client)]


def test_three_trustees_two_release_and_the_count_verifies(
    client: Client,
    app: Litestar,
    admin: dict[str, str],
    settings: Settings,
    tmp_path: Path,
) -> None:
    paths = _trustees(tmp_path)
    _create(client, admin, paths, k=2, voters=5)
    codes = _codes(client, admin)

    # Opening before the ceremony is complete is refused, before and after the dealings.
    refused = _open(client, admin)
    assert refused.status_code == 409 and refused.json()["error"] == "ceremony_incomplete"
    for path in paths:
        deal(client, ELECTION, load_identity(path), os.urandom)
    board = client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()
    assert board["status"] == "acknowledging" and len(board["dealings"]) == 3
    refused = _open(client, admin)
    assert refused.status_code == 409 and refused.json()["error"] == "ceremony_incomplete"
    for path in paths:
        acknowledge(client, ELECTION, load_identity(path), path)
    assert oct(paths[0].stat().st_mode & 0o777) == "0o600"
    opened = _open(client, admin)
    assert opened.status_code == 200, opened.text

    # The manifest carries the trustees and the joint key; the server kept no sealing key.
    view = client.get(f"/api/v1/elections/{ELECTION}/manifest").json()
    manifest = view["manifest"]
    assert manifest["trustees"]["threshold"] == 2
    assert len(manifest["trustees"]["members"]) == 3
    assert "lot_commitment" not in manifest
    board = client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()
    joint = dkg.joint_key(board["dealings"])
    assert manifest["sealing_key"] == b64url_encode(group.x25519_of(joint))
    with app.state.read_sessions() as db:
        row = db.get(Election, ELECTION)
        assert row is not None and row.secrets is not None
        box = SecretBox(load_or_create_secret(settings.keys_dir, "election-secrets.key"))
        kept = box.open(ELECTION, row.secrets)
    assert kept.sealing_private == b"" and kept.lot_secret == b""

    # Residents vote; one ballot breaks the limits and is taken all the same.
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(ELECTION, allow_test_keys=True)
    picks = [["park"], ["library", "playground"], ["park", "library"], ["playground"]]
    for code, choices in zip(codes[:4], picks, strict=True):
        wallet = voter.obtain_credential(info, access_code=code)
        voter.cast(info, wallet, {"approve": choices})
    cheat = voter.obtain_credential(info, access_code=codes[4])
    spoiled = client.post(
        f"/api/v1/elections/{ELECTION}/ballots", json=_spoiled_ballot(info, cheat)
    )
    assert spoiled.status_code == 201, spoiled.text
    spoiled_seq = spoiled.json()["seq"]

    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{ELECTION}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    assert not [e for e in _entries(client) if e.kind == kinds.ELECTION_UNSEALED]

    # A trustee who pinned another log key does not believe the close, and releases nothing.
    other = KeyInfo.from_private_key(settings.origin, Ed25519PrivateKey.generate())
    with pytest.raises(Refusal, match="does not prove the election's close"):
        release(
            client,
            ELECTION,
            load_identity(paths[0]),
            allow_test_keys=True,
            log_key=other.verifier_key,
        )
    log_key = client.get("/api/v1/log/key").json()["verifier_key"]

    # One share: nothing opens, and the count is refused.
    first = release(
        client, ELECTION, load_identity(paths[0]), allow_test_keys=True, log_key=log_key
    )
    assert first["shares"] == 1 and first["unsealed_seq"] is None
    refused = client.post(f"/api/v1/elections/{ELECTION}/tally", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"] == "not_unsealed"

    # A wrong key share, properly signed by trustee 2, is refused, named, not logged.
    size = len(log_lines(client))
    second = load_identity(paths[1])
    wrong = threshold.sign_key_share(
        info.hash,
        2,
        group.random_scalar(os.urandom),
        b64url_decode(second["signing_private"]),
    )
    answer = client.post(f"/api/v1/elections/{ELECTION}/key-shares", json=wrong)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_key_share"
    assert "trustee 2" in answer.json()["detail"]
    assert len(log_lines(client)) == size
    # The same trustee's share twice is refused.
    with pytest.raises(Refusal, match="key_share_exists"):
        release(client, ELECTION, load_identity(paths[0]), allow_test_keys=True)

    # The second valid share unseals in the same batch.
    third = release(client, ELECTION, load_identity(paths[2]), allow_test_keys=True)
    assert third["shares"] == 2 and third["unsealed_seq"] == third["seq"] + 1
    unsealed = _entries(client)[third["unsealed_seq"]]
    assert unsealed.kind == kinds.ELECTION_UNSEALED
    scalar = b64url_decode(unsealed.body.sealing_scalar)
    assert group.base_mul(scalar) == joint

    # Counted: the four ballots, and the spoiled one listed, never counted.
    published = client.post(f"/api/v1/elections/{ELECTION}/tally", headers=admin)
    assert published.status_code == 201, published.text
    result = published.json()
    assert result["counted"] == 4
    assert result["result"]["spoiled"] == [{"seq": spoiled_seq, "code": _spoiled_code(result)}]
    assert result["scores"]["park"] == 2
    page = client.get(f"/elections/{ELECTION}/results", headers={"accept-language": "ru"})
    assert page.status_code == 200
    assert "Испорченные бюллетени" in page.text and f"записи журнала {spoiled_seq}" in page.text

    # And veche verify agrees with all of it.
    export = tmp_path / "export"
    export_local_log(settings, export)
    key = client.get("/api/v1/log/key").json()["verifier_key"]
    state = tmp_path / "verifier-state"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "veche.cli",
            "verify",
            str(export),
            "--key",
            key,
            "--state",
            str(state),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _spoiled_code(result: dict[str, Any]) -> str:
    code = result["result"]["spoiled"][0]["code"]
    assert isinstance(code, str) and code
    return code


@pytest.fixture(name="dealt")
def fx_dealt(client: Client, admin: dict[str, str], tmp_path: Path) -> list[Path]:
    """A draft election with three trustees (threshold 2), nobody has dealt yet."""
    paths = _trustees(tmp_path)
    _create(client, admin, paths, k=2, voters=2)
    return paths


def test_a_dealing_signed_by_someone_not_a_trustee_is_refused(
    client: Client, dealt: list[Path], tmp_path: Path
) -> None:
    outsider = new_identity("Mallory")
    board = client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()
    ceremony = bytes.fromhex(board["ceremony"])
    forged = dkg.make_dealing(
        ceremony, 1, 2, board["members"], b64url_decode(outsider["signing_private"]), os.urandom
    )
    answer = client.post(f"/api/v1/elections/{ELECTION}/ceremony/dealings", json=forged)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_dealing"
    assert "trustee 1" in answer.json()["detail"]
    assert client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()["dealings"] == []


def test_a_replayed_dealing_is_refused(client: Client, dealt: list[Path]) -> None:
    deal(client, ELECTION, load_identity(dealt[0]), os.urandom)
    board = client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()
    replay = client.post(
        f"/api/v1/elections/{ELECTION}/ceremony/dealings", json=board["dealings"][0]
    )
    assert replay.status_code == 409 and replay.json()["error"] == "dealing_exists"
    # A fresh second dealing from the same trustee too.
    fresh = dkg.make_dealing(
        bytes.fromhex(board["ceremony"]),
        1,
        2,
        board["members"],
        b64url_decode(load_identity(dealt[0])["signing_private"]),
        os.urandom,
    )
    answer = client.post(f"/api/v1/elections/{ELECTION}/ceremony/dealings", json=fresh)
    assert answer.status_code == 409


def test_an_ack_before_every_dealing_and_an_election_without_trustees(
    client: Client, admin: dict[str, str], dealt: list[Path]
) -> None:
    deal(client, ELECTION, load_identity(dealt[0]), os.urandom)
    early = client.post(
        f"/api/v1/elections/{ELECTION}/ceremony/acks",
        json={"ack": {"trustee": 1}, "signature": "x"},
    )
    assert early.status_code == 409 and early.json()["error"] == "dealings_missing"
    plain = config("plain-2026")
    assert client.post("/api/v1/elections", json=plain, headers=admin).status_code == 201
    none = client.get("/api/v1/elections/plain-2026/ceremony")
    assert none.status_code == 404 and none.json()["error"] == "no_trustees"


def test_trustee_command_makes_a_private_file_and_shows_its_public_part(tmp_path: Path) -> None:
    out = tmp_path / "me.json"
    made = subprocess.run(
        [sys.executable, "-m", "veche.cli", "trustee", "init", "--name", "Anna", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    shown = subprocess.run(
        [sys.executable, "-m", "veche.cli", "trustee", "show", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert msgspec.json.decode(shown.stdout) == public_part(load_identity(out))
    again = subprocess.run(
        [sys.executable, "-m", "veche.cli", "trustee", "init", "--name", "Anna", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 1 and "exists already" in again.stderr
    offline = subprocess.run(
        [
            sys.executable,
            "-m",
            "veche.cli",
            "trustee",
            "deal",
            "--server",
            "http://127.0.0.1:9",
            "--election",
            "x",
            "--key",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert offline.returncode == 1 and "does not answer" in offline.stderr
    assert "Traceback" not in offline.stderr


def test_a_wrong_acknowledgement_is_refused_and_named(client: Client, dealt: list[Path]) -> None:
    for path in dealt:
        deal(client, ELECTION, load_identity(path), os.urandom)
    board = client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()
    ceremony = bytes.fromhex(board["ceremony"])
    second = load_identity(dealt[1])
    # Trustee 2 acknowledges with a public share that is not the one the commitments give.
    lying = dkg.make_ack(
        ceremony,
        2,
        board["dealings"],
        group.random_scalar(os.urandom),
        b64url_decode(second["signing_private"]),
    )
    answer = client.post(f"/api/v1/elections/{ELECTION}/ceremony/acks", json=lying)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "bad_ack" and "trustee 2" in answer.json()["detail"]
    # Trustee 3's honest acknowledgement, claimed by trustee 1's number, is refused too.
    honest = acknowledge_offline(board, dealt[2], 3)
    honest["ack"] = {**honest["ack"], "trustee": 1}
    answer = client.post(f"/api/v1/elections/{ELECTION}/ceremony/acks", json=honest)
    assert answer.status_code == 422 and "trustee 1" in answer.json()["detail"]
    assert client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()["acks"] == []


def acknowledge_offline(board: dict[str, Any], path: Path, me: int) -> dict[str, Any]:
    """Trustee ``me``'s signed acknowledgement of the board, made without posting it."""
    identity = load_identity(path)
    ceremony = bytes.fromhex(board["ceremony"])
    share = dkg.open_my_shares(
        ceremony,
        board["dealings"],
        me,
        b64url_decode(identity["box_private"]),
        board["threshold"],
        board["members"],
    )
    return dkg.make_ack(
        ceremony, me, board["dealings"], share, b64url_decode(identity["signing_private"])
    )


class LyingBoard:
    """A server that shows trustees a dealing it has altered (a share swapped)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        if url.endswith("/ceremony"):
            board = response.json()
            shares = board["dealings"][1]["dealing"]["shares"]
            shares[0]["sealed"], shares[2]["sealed"] = shares[2]["sealed"], shares[0]["sealed"]
            return _Answer(board)
        return response

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, **kwargs)


class _Answer:
    status_code = 200

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    def json(self) -> dict[str, Any]:
        return self.body


def test_a_trustee_does_not_acknowledge_a_board_the_server_altered(
    client: Client, dealt: list[Path]
) -> None:
    for path in dealt:
        deal(client, ELECTION, load_identity(path), os.urandom)
    identity = load_identity(dealt[0])
    with pytest.raises(Refusal, match="trustee 2"):
        acknowledge(LyingBoard(client), ELECTION, identity, dealt[0])
    assert ELECTION not in load_identity(dealt[0])["elections"]
    assert client.get(f"/api/v1/elections/{ELECTION}/ceremony").json()["acks"] == []
