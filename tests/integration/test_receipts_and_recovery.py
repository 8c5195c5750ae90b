"""A receipt proves one's own ballot, and a lost device is not a lost vote (docs/protocol.md
§8.2, §8.3, §6.13), over HTTP on SQLite and PostgreSQL.

The Python client is run behind a lying server: an ``Http`` in front of the test client
that answers a re-vote with the first ballot's receipt (the re-vote dropped), serves
another entry's bytes at the receipt's ``seq``, or proves another entry consistently.
Each lie is refused, naming what did not match; the honest path passes. Then recovery:
the same recovery code on a second client gets the same credential back (its earlier
receipt still checks, a re-vote is the same credential's and the last one counts), and a
wrong code is refused without a second credential."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import func, select

from audit.core.canonical import canonical_bytes
from ballot.core.client import ClientError, VoterClient, Wallet
from ballot.core.token import new_recovery_code
from ballot.services.models import CredentialIssuance
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import (
    EARLY_CLOSE,
    RESIDENTS,
    create_election,
    log_lines,
    open_election,
    verified_residents,
)
from tests.support.pages import HTML, csrf_from

Lie = Callable[[str, str, dict[str, Any], Callable[[], httpx.Response]], httpx.Response]


class LyingServer:
    """The test client seen through ``ballot.core.client.Http``, with a lie in between:
    ``lie(method, url, kwargs, forward)`` answers instead of the server, or forwards."""

    def __init__(self, client: Client, lie: Lie) -> None:
        self.client = client
        self.lie = lie

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.lie("GET", url, kwargs, lambda: self.client.get(url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.lie("POST", url, kwargs, lambda: self.client.post(url, **kwargs))


def answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


def digest_of(cast: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(cast)).hexdigest()


@pytest.fixture(name="voting")
def fx_voting(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> tuple[str, dict[str, str]]:
    """An open election of verified residents and one of them logged in (the headers with
    its CSRF token); ``ivan`` is verified too."""
    verified_residents(app, settings, "olga", "ivan")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    return election_id, login(client, "olga@example.org")


def test_the_honest_receipt_checks_now_and_later(
    client: Client, voting: tuple[str, dict[str, str]]
) -> None:
    election_id, headers = voting
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=headers)
    assert wallet.log_key == client.get("/api/v1/log/key").json()["verifier_key"]
    client.cookies.clear()
    receipt = voter.cast(info, wallet, {"approve": ["park"]})
    assert receipt["cast"]["ballot"]["credential"] == wallet.credential
    assert wallet.receipts == [receipt]
    voter.cast(info, wallet, {"approve": ["library"]})  # the log grows
    later = VoterClient(client, verifier_key=wallet.log_key)
    latest = later.recheck_receipt(receipt)
    assert latest.size > receipt["size"]
    # A receipt kept without the ballot it is for cannot be tied to it.
    bare = {k: v for k, v in receipt.items() if k != "cast"}
    with pytest.raises(ClientError) as refused:
        later.recheck_receipt(bare)
    assert refused.value.code == "no_ballot_in_receipt"


def test_a_revote_answered_with_the_first_receipt_is_refused(
    client: Client, voting: tuple[str, dict[str, str]]
) -> None:
    election_id, headers = voting
    first_answer: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []

    def replay(method: str, url: str, kwargs: dict[str, Any], forward: Any) -> httpx.Response:
        if method == "POST" and url.endswith("/ballots"):
            if first_answer:
                # The re-vote is dropped, and its "receipt" is the first ballot's, with the
                # digest of the new ballot so that only the entry gives the lie away.
                dropped.append(kwargs["json"])
                return answer(201, {**first_answer[0], "ballot_digest": digest_of(kwargs["json"])})
            response: httpx.Response = forward()
            first_answer.append(response.json())
            return response
        return forward()  # type: ignore[no-any-return]

    voter = VoterClient(LyingServer(client, replay))
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=headers)
    client.cookies.clear()
    first = voter.cast(info, wallet, {"approve": ["park"]})
    with pytest.raises(ClientError) as refused:
        voter.cast(info, wallet, {"approve": ["library"]})
    assert refused.value.code == "not_your_ballot"
    assert f"entry {first['seq']} holds another ballot than the one you sent" in str(refused.value)
    assert len(dropped) == 1 and wallet.receipts == [first]
    # The old client would have taken it: the proof and the checkpoint are valid.
    lines = log_lines(client)
    assert hashlib.sha256(b"\x00" + lines[first["seq"]]).hexdigest() == first["leaf_hash"]


def test_another_entrys_bytes_at_seq_are_refused(
    client: Client, voting: tuple[str, dict[str, str]]
) -> None:
    election_id, headers = voting

    def other_bytes(method: str, url: str, kwargs: dict[str, Any], forward: Any) -> httpx.Response:
        if url.startswith("/api/v1/log/entries?start="):
            seq = int(url.split("start=")[1].split("&")[0])
            moved = client.get(f"/api/v1/log/entries?start={seq - 1}&end={seq}")
            return httpx.Response(200, content=moved.content)
        return forward()  # type: ignore[no-any-return]

    voter = VoterClient(LyingServer(client, other_bytes))
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=headers)
    client.cookies.clear()
    with pytest.raises(ClientError) as refused:
        voter.cast(info, wallet, {"approve": ["park"]})
    assert refused.value.code == "entry_mismatch"
    assert "does not hash to the receipt's leaf hash" in refused.value.detail
    assert wallet.receipts == []


def test_a_consistent_proof_of_another_entry_is_refused(
    client: Client, app: Litestar, settings: Settings, voting: tuple[str, dict[str, str]]
) -> None:
    """The server drops the ballot and proves, with every hash right, another voter's."""
    election_id, headers = voting
    honest = VoterClient(client)
    info = honest.election(election_id, allow_test_keys=True)
    someone = honest.obtain_credential(info, headers=login(client, "ivan@example.org"))
    client.cookies.clear()
    theirs = honest.cast(info, someone, {"approve": ["library"]})
    receipt_of_theirs = {k: v for k, v in theirs.items() if k != "cast"}

    def dropped(method: str, url: str, kwargs: dict[str, Any], forward: Any) -> httpx.Response:
        if method == "POST" and url.endswith("/ballots"):
            return answer(201, {**receipt_of_theirs, "ballot_digest": digest_of(kwargs["json"])})
        return forward()  # type: ignore[no-any-return]

    voter = VoterClient(LyingServer(client, dropped))
    wallet = voter.obtain_credential(info, headers=login(client, "olga@example.org"))
    client.cookies.clear()
    with pytest.raises(ClientError) as refused:
        voter.cast(info, wallet, {"approve": ["park"]})
    assert refused.value.code == "not_your_ballot"
    assert "holds another ballot than the one you sent" in refused.value.detail
    assert headers  # olga's first log-in, replaced by ivan's above


def test_a_forged_checkpoint_or_a_forked_history_is_refused_later(
    client: Client, voting: tuple[str, dict[str, str]]
) -> None:
    election_id, headers = voting
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=headers)
    client.cookies.clear()
    receipt = voter.cast(info, wallet, {"approve": ["park"]})
    voter.cast(info, wallet, {"approve": ["library"]})

    def fork(method: str, url: str, kwargs: dict[str, Any], forward: Any) -> httpx.Response:
        response: httpx.Response = forward()
        if "/proof/consistency" in url:
            body = response.json()
            body["proof"][0] = "00" * 32
            return answer(200, body)
        return response

    with pytest.raises(ClientError) as forked:
        VoterClient(LyingServer(client, fork)).recheck_receipt(receipt)
    assert forked.value.code == "log_forked"
    other_key = "other.example/log+00000000+AQ" + "A" * 42
    with pytest.raises(ClientError) as unsigned:
        VoterClient(client, verifier_key=other_key).recheck_receipt(receipt)
    assert unsigned.value.code == "bad_checkpoint"


def issued(app: Litestar, election_id: str) -> int:
    with app.state.engine.connect() as db:
        count = db.execute(
            select(func.count())
            .select_from(CredentialIssuance)
            .where(CredentialIssuance.election_id == election_id)  # type: ignore[arg-type]
        ).scalar_one()
    return int(count)


def test_a_lost_device_gets_the_same_credential_back_and_it_is_one_vote(
    client: Client, app: Litestar, settings: Settings, voting: tuple[str, dict[str, str]]
) -> None:
    election_id, headers = voting
    device = VoterClient(client)
    info = device.election(election_id, allow_test_keys=True)
    code = new_recovery_code()
    first = device.obtain_credential(info, headers=headers, recovery_code=code)
    client.cookies.clear()
    kept = device.cast(info, first, {"approve": ["park"]})

    # The device is lost. On a new one: log in again and type the recovery code.
    new_device = VoterClient(client)
    again = new_device.obtain_credential(
        info, headers=login(client, "olga@example.org"), recovery_code=code.lower()
    )
    assert again.credential_private == first.credential_private
    assert again.token == first.token
    assert issued(app, election_id) == 1
    client.cookies.clear()
    assert new_device.recheck_receipt(kept).size >= kept["size"]  # the earlier receipt
    revote = new_device.cast(info, again, {"approve": ["library"]})
    assert revote["cast"]["ballot"]["credential"] == first.credential

    # A wrong code: another request from the same voter, refused; no second credential.
    with pytest.raises(ClientError) as refused:
        new_device.obtain_credential(
            info, headers=login(client, "olga@example.org"), recovery_code=new_recovery_code()
        )
    assert (refused.value.status, refused.value.code) == (409, "already_issued")
    assert issued(app, election_id) == 1
    kinds = [json.loads(line)["kind"] for line in log_lines(client)]
    assert kinds.count("credential.issued") == 1

    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{election_id}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    tallied = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin)
    assert tallied.status_code == 201, tallied.text
    result = tallied.json()
    assert (result["counted"], result["superseded"]) == (1, 1)
    assert result["scores"].get("library") == 1 and not result["scores"].get("park")


def test_with_an_access_code_the_code_and_the_recovery_code_recover(
    client: Client, admin: dict[str, str]
) -> None:
    election_id = create_election(
        client, admin, eligibility={"residents": False, "roll": True, "access_codes": True}
    )
    roll = client.post(
        f"/api/v1/elections/{election_id}/roll",
        content=b"voter_id\nR1\nR2\n",
        headers={**admin, "content-type": "text/csv"},
    )
    assert roll.status_code == 201, roll.text
    # The codes are made while a draft: the roll and its codes freeze when it opens.
    made = client.post(f"/api/v1/elections/{election_id}/access-codes", headers=admin)
    assert client.post(f"/api/v1/elections/{election_id}/open", headers=admin).status_code == 200
    codes = [line.split(",")[1] for line in made.text.strip().split("\n")[1:]]
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    first = voter.obtain_credential(info, access_code=codes[0])
    assert first.recovery_code is not None
    same = voter.obtain_credential(info, access_code=codes[0], recovery_code=first.recovery_code)
    assert same.credential == first.credential
    # The recovery code with another voter's access code is that voter's first request.
    other = voter.obtain_credential(info, access_code=codes[1], recovery_code=first.recovery_code)
    assert other.credential == first.credential  # the same derivation...
    with pytest.raises(ClientError) as refused:  # ...but the roll entry has its credential
        voter.obtain_credential(info, access_code=codes[1])
    assert refused.value.code == "already_issued"
    assert Wallet.from_json(first.to_json()).recovery_code == first.recovery_code


# --- "check my ballot" without JavaScript ------------------------------------------------------


def test_check_page_checks_the_entry_and_never_echoes_a_secret(
    client: Client, voting: tuple[str, dict[str, str]]
) -> None:
    election_id, headers = voting
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=headers)
    client.cookies.clear()
    first = voter.cast(info, wallet, {"approve": ["park"]})
    second = voter.cast(info, wallet, {"approve": ["library"]})
    token = csrf_from(client.get("/check", headers=HTML).text)

    def check(text: str) -> httpx.Response:
        return client.post("/check", data={"receipt": text, "csrf_token": token})

    good = check(json.dumps(first))
    assert good.status_code == 200
    assert f"Entry {first['seq']} of the log holds the ballot you sent" in good.text

    # The first ballot's receipt handed back for the second ballot.
    swapped = {**first, "cast": second["cast"], "ballot_digest": second["ballot_digest"]}
    lied = check(json.dumps(swapped))
    assert "holds another ballot than the one you sent" in lied.text
    moved = {**first, "seq": second["seq"]}
    assert "not the one the receipt proves" in check(json.dumps(moved)).text
    bare = {k: v for k, v in first.items() if k != "cast"}
    assert "does not carry the ballot you sent" in check(json.dumps(bare)).text
    unsigned = {**first, "checkpoint": first["checkpoint"].replace("\n\n", "\nx\n\n")}
    assert "not signed by this log" in check(json.dumps(unsigned)).text

    # A whole credential file: every receipt is checked; the secrets never come back.
    secret_wallet = json.dumps(wallet.to_json())
    page = check(secret_wallet)
    assert page.status_code == 200
    for receipt in (first, second):
        assert f"Entry {receipt['seq']} of the log holds the ballot you sent" in page.text
    assert "private key and recovery code were not kept" in page.text
    assert wallet.credential_private not in page.text
    assert wallet.recovery_code is not None and wallet.recovery_code not in page.text
    assert '"credential_private"' not in page.text and '"recovery_code"' not in page.text
    # Nor when a secret is pasted inside a receipt, or beside one.
    inside = {**first, "credential_private": wallet.credential_private}
    mixed = check(json.dumps(inside))
    assert f"Entry {first['seq']} of the log holds the ballot you sent" in mixed.text
    assert wallet.credential_private not in mixed.text
    nested = {"receipts": [{**first, "x": {"recovery_code": wallet.recovery_code}}]}
    assert wallet.recovery_code not in check(json.dumps(nested)).text
    # Not even when the file is broken JSON.
    broken = check(secret_wallet[:-5])
    assert broken.status_code == 400
    assert wallet.credential_private not in broken.text


@pytest.mark.parametrize(
    "text",
    [
        "[" * 40_000 + "]" * 40_000,
        '{"seq": ' + "[" * 30_000 + "]" * 30_000 + "}",
        '{"receipts": [' + '{"seq": 1, "a": ' * 3000 + "1" + "}" * 3000 + "]}",
        "<b>nope</b>",
        "[]",
        '{"receipts": []}',
        "x" * 200_000,
    ],
    ids=["nested-array", "nested-in-receipt", "nested-objects", "html", "array", "empty", "long"],
)
def test_check_page_answers_400_to_what_is_not_a_receipt(
    client: Client, admin: dict[str, str], text: str
) -> None:
    del admin
    token = csrf_from(client.get("/check", headers=HTML).text)
    response = client.post("/check", data={"receipt": text, "csrf_token": token})
    assert response.status_code == 400
    assert "This is not a receipt." in response.text
    assert "<b>nope</b>" not in response.text
