"""Everything published comes from the log's hashed bytes (docs/protocol.md §9.9, §10.4).

An operator who holds the database changes what lies beside the hashed bytes — the
``election.result`` column, ``log_entry.kind``, ``election.result_seq``, a result row's
bytes — and the count, the results page and API and applying the result to proposals
still give the logged result, or refuse with a sentence. A server that serves another
result than it logged is caught by ``veche verify`` from its URL. The export is counted
once per result and kept, however many strangers ask for it.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import text

from audit.core.canonical import canonical_bytes, decode_canonical
from audit.core.entry import leaf_hash, parse_entry
from ballot.core import kinds, record
from ballot.core.client import VoterClient
from kernel.settings import Settings
from tests.support.accounts import Client, login
from tests.support.elections import EARLY_CLOSE, log_lines, run_election, when
from tests.support.proposals import Actor, program_body, proposal_body
from tests.support.relay import relay
from veche.kinds import entry_kinds

KINDS = entry_kinds()


def sql(app: Litestar, statement: str, **params: Any) -> list[Any]:
    """What an operator holding the database does, beside the application."""
    with app.state.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        return list(result.all()) if result.returns_rows else []


def column(app: Litestar, name: str, election_id: str) -> Any:
    rows = sql(app, f"SELECT {name} FROM election WHERE id = :id", id=election_id)
    return rows[0][0]


@pytest.fixture(name="tallied")
def fx_tallied(client: Client, app: Litestar, settings: Settings) -> tuple[str, dict[str, Any]]:
    election_id, _choices = run_election(client, app, settings, {"name": "greedy"}, voters=12)
    admin = login(client, "admin@example.org")
    published = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin)
    assert published.status_code == 201, published.text
    client.cookies.clear()
    return election_id, published.json()


def forged_view(view: dict[str, Any]) -> dict[str, Any]:
    """The same view naming other winners: every project but the real winners."""
    others = [p for p in view["scores"] if p not in view["winners"]]
    return {**view, "winners": others, "result": {**view["result"], "winners": others}}


def test_a_changed_result_column_changes_nothing(
    client: Client, app: Litestar, tallied: tuple[str, dict[str, Any]]
) -> None:
    election_id, view = tallied
    fake = forged_view(view)
    sql(app, "UPDATE election SET result = :r WHERE id = :id", r=json.dumps(fake).encode(),
        id=election_id)  # fmt: skip
    served = client.get(f"/api/v1/elections/{election_id}/result")
    assert served.status_code == 200
    assert served.json()["winners"] == view["winners"] != fake["winners"]
    assert served.json()["result"] == view["result"]
    page = client.get(f"/elections/{election_id}/results")
    assert page.status_code == 200
    winners_list = page.text.split('<ol class="winners">')[1].split("</ol>")[0]
    titles = {p["id"]: p["title"] for p in client.get(
        f"/api/v1/elections/{election_id}/manifest").json()["manifest"]["projects"]}  # fmt: skip
    for project in view["winners"]:
        assert titles[project] in winners_list
    for project in fake["winners"]:
        assert titles[project] not in winners_list


def test_a_changed_kind_column_changes_nothing(
    client: Client, app: Litestar, tallied: tuple[str, dict[str, Any]]
) -> None:
    election_id, view = tallied
    seq = column(app, "result_seq", election_id)
    # The result's row says it is a notice, a notice's row says it is a result.
    sql(app, "UPDATE log_entry SET kind = 'notice.published' WHERE seq = :s", s=seq)
    sql(app, "UPDATE log_entry SET kind = 'result.published' WHERE seq = 0")
    served = client.get(f"/api/v1/elections/{election_id}/result")
    assert served.status_code == 200, served.text
    assert served.json() == view
    assert client.get(f"/elections/{election_id}/results").status_code == 200
    # The same election's result row pointed at the genesis entry (whose column now
    # says "result.published"): the bytes decide, and the answer is a clear refusal.
    sql(app, "UPDATE election SET result_seq = 0 WHERE id = :id", id=election_id)
    refused = client.get(f"/api/v1/elections/{election_id}/result")
    assert refused.status_code == 500
    assert refused.json()["error"] == "inconsistent_log"
    assert "is not the result of" in refused.json()["detail"]
    page = client.get(f"/elections/{election_id}/results", headers={"Accept-Language": "ru"})
    assert page.status_code == 500
    assert "inconsistent_log" in page.text


def test_a_ballot_hidden_by_its_kind_column_is_still_counted(
    client: Client, app: Litestar, settings: Settings
) -> None:
    election_id, choices = run_election(client, app, settings, {"name": "greedy"}, voters=12)
    # Before the count the operator relabels a ballot's row and a credential's row.
    ballots = sql(app, "SELECT seq FROM log_entry WHERE kind = 'ballot.cast' ORDER BY seq")
    sql(app, "UPDATE log_entry SET kind = 'notice.published' WHERE seq = :s", s=ballots[-1][0])
    sql(app, "UPDATE log_entry SET kind = 'ballot.cast' WHERE seq = 0")
    admin = login(client, "admin@example.org")
    published = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin)
    assert published.status_code == 201, published.text
    assert published.json()["counted"] == len(choices) == 12
    # Anyone recounting from the log gets the same.
    entries = [parse_entry(line, KINDS) for line in log_lines(client)]
    records, _orphans = record.gather(entries)
    counted = record.count(records[published.json()["election"]])
    assert len(counted.counted) == published.json()["counted"]


def test_no_result_column_and_a_tallied_status_is_refused_clearly(
    client: Client, app: Litestar, tallied: tuple[str, dict[str, Any]]
) -> None:
    election_id, _view = tallied
    sql(app, "UPDATE election SET result_seq = NULL WHERE id = :id", id=election_id)
    refused = client.get(f"/api/v1/elections/{election_id}/result")
    assert refused.status_code == 500
    assert refused.json()["error"] == "inconsistent_log"
    # Nor may the operator count it again: the log already holds its result.
    sql(app, "UPDATE election SET status = 'closed' WHERE id = :id", id=election_id)
    admin = login(client, "admin@example.org")
    again = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin)
    assert again.status_code == 409
    assert again.json()["error"] == "already_tallied"


def rewrite_result_row(app: Litestar, election_id: str, *, resign: bool, **changes: Any) -> None:
    """The operator rewrites the result entry's bytes in its row (and its leaf hash)."""
    seq = column(app, "result_seq", election_id)
    data = sql(app, "SELECT data FROM log_entry WHERE seq = :s", s=seq)[0][0]
    entry = decode_canonical(bytes(data))
    assert isinstance(entry, dict)
    body = {**entry["body"], **changes}
    if resign:  # the operator holds the authority key too
        body["signature"] = kinds.sign_result(
            app.state.authority_key, msgspec.convert(body, kinds.ResultPublished)
        )
    new = canonical_bytes({**entry, "body": body})
    sql(app, "UPDATE log_entry SET data = :d, leaf_hash = :h WHERE seq = :s", d=new,
        h=leaf_hash(new), s=seq)  # fmt: skip


@pytest.mark.parametrize("resign", [False, True], ids=["unsigned", "re-signed"])
def test_a_rewritten_result_row_is_refused(
    client: Client, app: Litestar, tallied: tuple[str, dict[str, Any]], resign: bool
) -> None:
    election_id, view = tallied
    fake = forged_view(view)
    rewrite_result_row(app, election_id, resign=resign, winners=fake["winners"])
    refused = client.get(f"/api/v1/elections/{election_id}/result")
    assert refused.status_code == 500, refused.text
    expected = "result_mismatch" if resign else "inconsistent_log"
    assert refused.json()["error"] == expected
    assert fake["winners"] != view["winners"]
    assert client.get(f"/elections/{election_id}/results").status_code == 500
    assert client.get(f"/api/v1/elections/{election_id}/export.pb").status_code == 500


# --- the export: counted once, kept -----------------------------------------------------------


def test_the_export_is_counted_once_per_result_and_kept(
    client: Client, app: Litestar, settings: Settings
) -> None:
    election_id, _choices = run_election(client, app, settings, {"name": "greedy"}, voters=12)
    results = app.state.results
    client.cookies.clear()  # strangers, no log-in
    start = results.counts
    url = f"/api/v1/elections/{election_id}/export.pb"
    first = client.get(url)
    assert first.status_code == 200
    assert results.counts == start + 1
    # Many strangers at once: one count between them.
    outputs: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: outputs.append(results.export_pb(election_id)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == [first.content] * 8
    assert client.get(url).content == first.content
    assert results.counts == start + 1
    assert b"veche_lot_seed" not in first.content

    # Publishing counts once and keeps what it counted: the export with the lot's seed,
    # the result view and its page need no further count.
    admin = login(client, "admin@example.org")
    assert client.post(f"/api/v1/elections/{election_id}/tally", headers=admin).status_code == 201
    client.cookies.clear()
    assert results.counts == start + 2
    published = client.get(url)
    assert b"veche_lot_seed" in published.content
    for _ in range(3):
        assert client.get(url).content == published.content
        assert client.get(f"/api/v1/elections/{election_id}/result").status_code == 200
        assert client.get(f"/elections/{election_id}/results").status_code == 200
    assert results.counts == start + 2


def test_after_a_restart_the_export_is_counted_once_from_the_log(
    client: Client, app: Litestar, tallied: tuple[str, dict[str, Any]]
) -> None:
    """A new process (a new result service) counts from the log once, then keeps it."""
    from ballot.services.results import ResultService

    election_id, view = tallied
    fresh = ResultService(app.state.elections)
    with app.state.read_sessions() as db:
        first = fresh.result(db, election_id)
        second = fresh.result(db, election_id)
    assert fresh.counts == 1
    assert msgspec.to_builtins(first) == msgspec.to_builtins(second) == view
    assert fresh.export_pb(election_id) == client.get(
        f"/api/v1/elections/{election_id}/export.pb").content  # fmt: skip
    assert fresh.counts == 1


# --- applying the result to proposals ----------------------------------------------------------


def _election_from_proposals(people: dict[str, Actor]) -> tuple[int, list[int], str]:
    """A program whose two proposals are on a roll election's ballot."""
    admin = people["admin"]
    body = program_body(support_threshold=0, cofund_percent=0)
    program = admin.call("POST", "/api/v1/programs", body).json()["id"]
    proposals = []
    for title in ("Benches", "Fountain"):
        made = people["author"].call(
            "POST", "/api/v1/proposals", proposal_body(program, title=title)
        )
        pid = made.json()["id"]
        people["author"].call("POST", f"/api/v1/proposals/{pid}/submit")
        proposals.append(pid)
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    for pid in proposals:
        review = {"decision": "accept", "validated_cost": 40_000_000}
        assert (
            people["mod"].call("POST", f"/api/v1/proposals/{pid}/review", review).status_code == 200
        )
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "voting"})
    rest = {
        "id": "centre-2027",
        "title": "Centre 2027",
        "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 1},
        "rule": {"name": "greedy"},
        "window": {"opens_at": when(-5), "closes_at": when(60)},
        "eligibility": {"residents": False, "roll": True, "access_codes": True},
        "rsa_key_bits": 1024,
    }
    created = admin.call("POST", f"/api/v1/programs/{program}/elections",
                         {"district": "centre", "election": rest})  # fmt: skip
    assert created.status_code == 201, created.text
    return program, proposals, "centre-2027"


def _vote_and_count(people: dict[str, Actor], election_id: str, choice: str) -> dict[str, Any]:
    admin = people["admin"]
    client = admin.use()
    roll = "voter_id\nV1\nV2\nV3\n"
    headers = {"X-CSRF-Token": admin.csrf, "content-type": "text/csv"}
    added = client.post(f"/api/v1/elections/{election_id}/roll", content=roll, headers=headers)
    assert added.status_code == 201, added.text
    # The codes are made while a draft: the roll and its codes freeze when it opens.
    codes = admin.call("POST", f"/api/v1/elections/{election_id}/access-codes").text
    assert admin.call("POST", f"/api/v1/elections/{election_id}/open").status_code == 200
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    for line in codes.strip().split("\n")[1:]:
        wallet = voter.obtain_credential(info, access_code=line.split(",")[1])
        voter.cast(info, wallet, {"approve": [choice]})
    closed = admin.call("POST", f"/api/v1/elections/{election_id}/close", EARLY_CLOSE)
    assert closed.status_code == 200, closed.text
    tallied = admin.call("POST", f"/api/v1/elections/{election_id}/tally")
    assert tallied.status_code == 201, tallied.text
    return dict(tallied.json())


def test_apply_result_applies_the_logged_result(app: Litestar, people: dict[str, Actor]) -> None:
    program, (benches, fountain), election_id = _election_from_proposals(people)
    view = _vote_and_count(people, election_id, f"proposal-{benches}")
    assert view["winners"] == [f"proposal-{benches}"]
    # The operator makes the database say the fountain won, and hides the result's row.
    fake = {**view, "winners": [f"proposal-{fountain}"]}
    sql(app, "UPDATE election SET result = :r WHERE id = :id", r=json.dumps(fake).encode(),
        id=election_id)  # fmt: skip
    sql(app, "UPDATE log_entry SET kind = 'notice.published' WHERE seq = :s",
        s=column(app, "result_seq", election_id))  # fmt: skip
    applied = people["admin"].call(
        "POST", f"/api/v1/programs/{program}/elections/{election_id}/apply-result"
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["won"] == [benches]
    assert applied.json()["lost"] == [fountain]


def test_apply_result_refuses_a_rewritten_result(app: Litestar, people: dict[str, Actor]) -> None:
    program, (benches, fountain), election_id = _election_from_proposals(people)
    _vote_and_count(people, election_id, f"proposal-{benches}")
    rewrite_result_row(app, election_id, resign=True, winners=[f"proposal-{fountain}"])
    refused = people["admin"].call(
        "POST", f"/api/v1/programs/{program}/elections/{election_id}/apply-result"
    )
    assert refused.status_code == 500
    assert refused.json()["error"] == "result_mismatch"
    for pid in (benches, fountain):
        status = people["admin"].call("GET", f"/api/v1/proposals/{pid}").json()["status"]
        assert status == "on_ballot"


def test_apply_result_refuses_a_proposal_slipped_onto_the_ballot(
    app: Litestar, people: dict[str, Actor]
) -> None:
    program, (benches, _fountain), election_id = _election_from_proposals(people)
    _vote_and_count(people, election_id, f"proposal-{benches}")
    # A third accepted proposal, attached to the election in the database only.
    made = people["author"].call("POST", "/api/v1/proposals", proposal_body(program, title="Extra"))
    extra = made.json()["id"]
    sql(app, "UPDATE proposal SET status = 'on_ballot', election_id = :e WHERE id = :p",
        e=election_id, p=extra)  # fmt: skip
    refused = people["admin"].call(
        "POST", f"/api/v1/programs/{program}/elections/{election_id}/apply-result"
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "not_on_manifest"


# --- veche verify holds the served result against the logged one ------------------------------


def verify(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "veche.cli", "verify", url, "--no-state", *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_verify_from_the_url_finds_the_served_result_is_the_logged_one(
    client: Client, tallied: tuple[str, dict[str, Any]]
) -> None:
    with relay(client) as url:
        done = verify(url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "served result:          the logged one" in done.stdout
    assert "OVERALL: OK" in done.stdout


def test_verify_from_the_url_reports_a_served_result_that_is_not_logged(
    client: Client, tallied: tuple[str, dict[str, Any]]
) -> None:
    election_id, view = tallied
    fake = forged_view(view)

    def lie(path: str, status: int, body: bytes) -> tuple[int, bytes]:
        if path == f"/api/v1/elections/{election_id}/result":
            return 200, json.dumps(fake).encode()
        return status, body

    with relay(client, lie) as url:
        done = verify(url)
        as_json = verify(url, "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "served_result_mismatch" in done.stdout
    assert "differs in result, winners" in done.stdout
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert [f["code"] for f in report["election_failures"]] == ["served_result_mismatch"]


def test_verify_from_the_url_reports_a_server_that_refuses_its_logged_result(
    client: Client, app: Litestar, tallied: tuple[str, dict[str, Any]]
) -> None:
    election_id, _view = tallied
    # The operator breaks the result's column: the server refuses clearly, and the
    # auditor is told the logged result is not served.
    sql(app, "UPDATE election SET result_seq = NULL WHERE id = :id", id=election_id)
    with relay(client) as url:
        done = verify(url)
    assert done.returncode == 1
    assert "served_result_mismatch" in done.stdout
    assert "500 inconsistent_log" in done.stdout


def test_verify_json_keeps_log_failures_beside_election_failures(
    client: Client, tallied: tuple[str, dict[str, Any]]
) -> None:
    election_id, view = tallied
    fake = forged_view(view)

    def lie(path: str, status: int, body: bytes) -> tuple[int, bytes]:
        if path == f"/api/v1/elections/{election_id}/result":
            return 200, json.dumps(fake).encode()
        if path == "/api/v1/log/checkpoint":  # a checkpoint whose signature is broken
            note = body.decode().rstrip("\n").split("\n")
            dash, name, signature = note[-1].split(" ")
            raw = bytearray(base64.b64decode(signature))
            raw[-1] ^= 1
            note[-1] = f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}"
            return status, ("\n".join(note) + "\n").encode()
        return status, body

    with relay(client, lie) as url:
        done = verify(url, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert report["ok"] is False
    assert "checkpoint_signature" in [f["code"] for f in report["failures"]]
    assert "served_result_mismatch" in [f["code"] for f in report["election_failures"]]
