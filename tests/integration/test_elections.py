"""Elections over HTTP on SQLite and PostgreSQL: configure, open, credentials, cast, close."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from litestar import Litestar

from audit.core.entry import parse_entry
from ballot.core.client import ClientError, VoterClient
from kernel.settings import Settings
from tests.support.accounts import Client, login, resident
from tests.support.elections import (
    EARLY_CLOSE,
    RESIDENTS,
    config,
    create_election,
    log_lines,
    open_election,
    verified_residents,
    when,
)
from veche.kinds import entry_kinds

KINDS = entry_kinds()


def test_vote_from_credential_to_receipt(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    verified_residents(app, settings, "olga")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    assert info.manifest.title == "Centre 2026"

    headers = login(client, "olga@example.org")
    wallet = voter.obtain_credential(info, headers=headers)
    # A second credential for the same voter is refused; the same request is answered again.
    with pytest.raises(ClientError) as again:
        voter.obtain_credential(info, headers=headers)
    assert again.value.code == "already_issued"

    client.cookies.clear()  # casting needs no log-in
    receipt = voter.cast(info, wallet, {"approve": ["park", "library"]})
    assert receipt["election"] == info.hash
    # Re-voting is allowed by default; the same ballot resent gets the same receipt.
    second = voter.cast(info, wallet, {"approve": ["playground"]})
    assert second["seq"] > receipt["seq"]

    lines = log_lines(client)
    cast = parse_entry(lines[second["seq"]], KINDS)
    assert cast.kind == "ballot.cast"
    # While the election is open nothing in the log names a project a voter chose.
    text = b"\n".join(lines)
    for project in (b"playground", b'"approve"'):
        assert text.count(project) == (1 if project == b"playground" else 0)

    closed = client.post(
        f"/api/v1/elections/{election_id}/close",
        json=EARLY_CLOSE,
        headers=login(client, "admin@example.org"),
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    kinds = [parse_entry(line, KINDS).kind for line in log_lines(client)]
    assert kinds[-2:] == ["election.closed", "election.unsealed"]
    late = client.post(
        f"/api/v1/elections/{election_id}/ballots", json={"ballot": {}, "signature": "x"}
    )
    assert late.status_code in {400, 409}


def test_identical_ballot_gets_the_same_receipt(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    from ballot.core.ballot import ballot_json, make_ballot

    verified_residents(app, settings, "ivan")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=login(client, "ivan@example.org"))
    assert wallet.token is not None
    ballot, signature = make_ballot(
        info.manifest, wallet.private_key, wallet.token, {"approve": ["park"]}, voter.rng
    )
    body = {"ballot": ballot_json(ballot), "signature": signature}
    first = client.post(f"/api/v1/elections/{election_id}/ballots", json=body)
    again = client.post(f"/api/v1/elections/{election_id}/ballots", json=body)
    assert first.status_code == again.status_code == 201
    assert first.json()["seq"] == again.json()["seq"]
    assert first.json()["leaf_hash"] == again.json()["leaf_hash"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"budget": 0}, "bad_budget"),
        ({"window": {"opens_at": when(10), "closes_at": when(5)}}, "bad_window"),
        (
            {
                "projects": [
                    {"id": "a", "title": "A", "cost": 5},
                    {"id": "a", "title": "B", "cost": 6},
                ]
            },
            "duplicate_project",
        ),
        ({"ballot": {"kind": "approval", "min_projects": 3, "max_projects": 1}}, "max_below_min"),
        ({"rule": {"name": "borda"}}, "rule_not_for_kind"),
        ({"colour": "blue"}, "malformed_config"),
    ],
)
def test_inconsistent_configurations_are_refused(
    client: Client, admin: dict[str, str], change: dict[str, Any], code: str
) -> None:
    response = client.post("/api/v1/elections", json=config(**change), headers=admin)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code


def test_who_may_do_what(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    election_id = open_election(client, admin)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    outsider = resident(client, app, settings, "north-person", district="north")
    with pytest.raises(ClientError) as refused:
        voter.obtain_credential(info, headers=outsider)
    assert refused.value.status == 403
    assert refused.value.code == "not_eligible"
    assert client.post("/api/v1/elections", json=config("x-1"), headers=outsider).status_code == 403
    assert (
        client.post(f"/api/v1/elections/{election_id}/close", headers=outsider).status_code == 403
    )
    client.cookies.clear()
    with pytest.raises(ClientError) as anonymous:
        voter.obtain_credential(info)
    assert anonymous.value.status == 401
    missing = client.get("/api/v1/elections/nope/manifest")
    assert missing.status_code == 404
    assert missing.json()["error"] == "no_such_election"


def test_roll_and_access_codes(client: Client, admin: dict[str, str]) -> None:
    election_id = create_election(client, admin)
    bad = client.post(
        f"/api/v1/elections/{election_id}/roll",
        content=b"voter_id,email\nA1,a1@example.org\nA1,dup@example.org\n,x@y.z\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert bad.status_code == 400
    assert "line 3" in bad.json()["detail"] and "line 4" in bad.json()["detail"]
    good = client.post(
        f"/api/v1/elections/{election_id}/roll",
        content=b"\xef\xbb\xbfvoter_id,email\nA1,a1@example.org\nA2,\nA3,\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert good.status_code == 201, good.text
    assert good.json() == {"added": 3}
    codes = client.post(f"/api/v1/elections/{election_id}/access-codes", headers=admin)
    assert codes.status_code == 201
    rows = [line.split(",") for line in codes.text.strip().split("\n")[1:]]
    assert [r[0] for r in rows] == ["A1", "A2", "A3"]
    # Asking again makes no new codes: each was shown once.
    assert (
        client.post(f"/api/v1/elections/{election_id}/access-codes", headers=admin).text.strip()
        == "voter_id,access_code"
    )
    opened = client.post(f"/api/v1/elections/{election_id}/open", headers=admin)
    assert opened.status_code == 200, opened.text

    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, access_code=rows[1][1].lower())
    assert wallet.token is not None
    with pytest.raises(ClientError) as reused:
        voter.obtain_credential(info, access_code=rows[1][1])
    assert reused.value.code == "already_issued"
    with pytest.raises(ClientError) as wrong:
        voter.obtain_credential(info, access_code="AAAAA-BBBBB-CCCCC-DDDDD")
    assert wrong.value.code == "bad_access_code"
    voter.cast(info, wallet, {"approve": ["park"]})


def test_concurrent_double_issuance_yields_one_credential(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    verified_residents(app, settings, "twin")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    headers = login(client, "twin@example.org")
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            voter.obtain_credential(info, headers=headers)
            result = "issued"
        except ClientError as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("issued") == 1, outcomes
    assert set(outcomes) == {"issued", "already_issued"}
    issued = [parse_entry(line, KINDS) for line in log_lines(client)]
    assert sum(1 for e in issued if e.kind == "credential.issued") == 1


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b, s: ({**b, "election": "0" * 64}, s), "wrong_election"),
        (lambda b, s: (b, s[:-4] + ("AAAA" if s[-4:] != "AAAA" else "BBBB")), "bad_signature"),
        (lambda b, s: ({**b, "sealed": b["sealed"][:-6] + "AAAAAA"}, s), "bad_signature"),
        (lambda b, s: ({**b, "token": {**b["token"], "prefix": "A" * 43}}, s), "bad_token"),
        (lambda b, s: ({k: v for k, v in b.items() if k != "token"}, s), "malformed_ballot"),
    ],
)
def test_bad_ballots_are_refused_with_their_code(
    client: Client,
    app: Litestar,
    settings: Settings,
    admin: dict[str, str],
    mutate: Any,
    code: str,
) -> None:
    from ballot.core.ballot import ballot_json, make_ballot

    verified_residents(app, settings, "eve")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=login(client, "eve@example.org"))
    assert wallet.token is not None
    ballot, signature = make_ballot(
        info.manifest, wallet.private_key, wallet.token, {"approve": ["park"]}, voter.rng
    )
    body, sig = mutate(ballot_json(ballot), signature)
    response = client.post(
        f"/api/v1/elections/{election_id}/ballots", json={"ballot": body, "signature": sig}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    garbage = client.post(
        f"/api/v1/elections/{election_id}/ballots",
        content=b"[1,2",
        headers={"content-type": "application/json"},
    )
    assert garbage.status_code == 400
