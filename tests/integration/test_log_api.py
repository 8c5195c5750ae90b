"""The audit log over HTTP on SQLite and PostgreSQL: entries, proofs, notices, errors."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from litestar import Litestar

from audit.core.checkpoint import verify_checkpoint
from audit.core.entry import parse_entry
from audit.core.merkle import verify_consistency, verify_inclusion
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client
from veche.kinds import entry_kinds
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user

KINDS = entry_kinds()


def log_in(client: Client, app: Litestar, settings: Settings, role: str) -> str:
    email = f"{role}@example.org"
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    district = "centre" if role == "resident" else None
    create_user(settings, app.state.engine, NewUser(email, PASSWORD, role.title(), role, district))
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return str(response.json()["csrf_token"])


def publish(client: Client, csrf: str, title: str = "Budget hearing", **extra: Any) -> Any:
    body = {"title": title, "text": "The hearing is on Monday at 18:00.", "lang": "en"}
    body.update(extra)
    return client.post("/api/v1/log/notices", json=body, headers={"X-CSRF-Token": csrf})


def key(client: Client) -> dict[str, str]:
    response = client.get("/api/v1/log/key")
    assert response.status_code == 200
    return dict(response.json())


def test_genesis_names_the_key_that_signs_checkpoints(client: Client, settings: Settings) -> None:
    info = key(client)
    assert info["origin"] == settings.origin
    note = client.get("/api/v1/log/checkpoint")
    assert note.status_code == 200
    assert note.headers["content-type"].startswith("text/plain")
    checkpoint = verify_checkpoint(note.text, info["verifier_key"])
    assert checkpoint.size == 1
    lines = client.get("/api/v1/log/entries").content.split(b"\n")
    assert lines[-1] == b""
    genesis = parse_entry(lines[0], KINDS)
    assert genesis.kind == "log.genesis"
    assert genesis.seq == 0
    assert genesis.body.public_key == info["public_key"]  # type: ignore[attr-defined]
    leaf = hashlib.sha256(b"\x00" + lines[0]).digest()
    assert checkpoint.root == leaf


def test_notices_extend_the_log_with_proofs(
    client: Client, app: Litestar, settings: Settings
) -> None:
    csrf = log_in(client, app, settings, "admin")
    info = key(client)
    receipts = []
    for n in range(12):
        response = publish(client, csrf, title=f"Notice {n}")
        assert response.status_code == 201, response.text
        receipts.append(response.json())
    assert [r["seq"] for r in receipts] == list(range(1, 13))

    body = client.get("/api/v1/log/entries").content
    lines = body.split(b"\n")[:-1]
    assert len(lines) == 13
    leaves = [hashlib.sha256(b"\x00" + line).digest() for line in lines]
    for seq, line in enumerate(lines):
        entry = parse_entry(line, KINDS)
        assert entry.seq == seq
        if seq:
            assert entry.prev == leaves[seq - 1].hex()
    for receipt in receipts:
        assert receipt["leaf_hash"] == leaves[receipt["seq"]].hex()
        # Each receipt's checkpoint is signed and covers its entry.
        checkpoint = verify_checkpoint(receipt["checkpoint"], info["verifier_key"])
        assert checkpoint.size > receipt["seq"]

    latest = verify_checkpoint(client.get("/api/v1/log/checkpoint").text, info["verifier_key"])
    assert latest.size == 13
    for seq in range(13):
        for size in (seq + 1, 13):
            proof = client.get(f"/api/v1/log/proof/inclusion?seq={seq}&size={size}").json()
            assert proof["leaf_hash"] == leaves[seq].hex()
            verify_inclusion(
                leaves[seq],
                seq,
                size,
                [bytes.fromhex(p) for p in proof["proof"]],
                bytes.fromhex(proof["root"]),
            )
    assert proof["root"] == latest.root.hex()
    for first in range(1, 13):
        result = client.get(f"/api/v1/log/proof/consistency?first={first}&second=13").json()
        verify_consistency(
            first,
            13,
            bytes.fromhex(result["first_root"]),
            latest.root,
            [bytes.fromhex(p) for p in result["proof"]],
        )

    page = client.get("/api/v1/log/entries?start=3&end=5").content.split(b"\n")[:-1]
    assert page == lines[3:5]
    assert client.get("/api/v1/log/entries?start=10&end=999").content.count(b"\n") == 3


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/v1/log/entries?start=-1", 400, "bad_parameter"),
        ("/api/v1/log/entries?start=abc", 400, "invalid_input"),
        ("/api/v1/log/entries?start=5", 404, "out_of_range"),
        ("/api/v1/log/entries?start=0&end=-2", 400, "bad_parameter"),
        ("/api/v1/log/entries?start=1&end=0", 400, "bad_range"),
        ("/api/v1/log/entries?start=0&end=5000", 400, "page_too_large"),
        ("/api/v1/log/proof/inclusion", 400, "invalid_input"),
        ("/api/v1/log/proof/inclusion?seq=1", 404, "out_of_range"),
        ("/api/v1/log/proof/inclusion?seq=0&size=2", 404, "out_of_range"),
        ("/api/v1/log/proof/inclusion?seq=0&size=0", 400, "bad_parameter"),
        ("/api/v1/log/proof/inclusion?seq=-3", 400, "bad_parameter"),
        ("/api/v1/log/proof/inclusion?seq=1.5", 400, "invalid_input"),
        ("/api/v1/log/proof/consistency?first=0&second=1", 400, "bad_parameter"),
        ("/api/v1/log/proof/consistency?first=2&second=1", 400, "bad_range"),
        ("/api/v1/log/proof/consistency?first=1&second=9", 404, "out_of_range"),
        ("/api/v1/log/proof/consistency?first=x", 400, "invalid_input"),
    ],
)
def test_bad_parameters(client: Client, url: str, status: int, code: str) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["detail"]


def test_notice_rules(client: Client, app: Litestar, settings: Settings) -> None:
    anonymous = publish(client, "x")
    assert anonymous.status_code == 401
    csrf = log_in(client, app, settings, "resident")
    assert publish(client, csrf).status_code == 403
    csrf = log_in(client, app, settings, "admin")
    assert publish(client, "wrong-token").status_code == 403
    empty = publish(client, csrf, title="")
    assert empty.status_code == 400
    assert empty.json()["error"] == "invalid_notice"
    extra = publish(client, csrf, email="someone@example.org")
    assert extra.status_code == 400
    long_title = publish(client, csrf, title="x" * 201)
    assert long_title.status_code == 400
    bad_lang = publish(client, csrf, lang="English")
    assert bad_lang.status_code == 400
    # Nothing refused reached the log.
    assert client.get("/api/v1/log/entries").content.count(b"\n") == 1
    assert publish(client, csrf, title="Привет, жители").status_code == 201
