"""The ballot builder: an election made in the browser from a programme's accepted
proposals, with the configuration's own messages next to the fields, a preview of the
ballot, a refused form that keeps what was typed, and the JSON view of the same object."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from proposals.core.builder import (
    FormProblem,
    election_from_form,
    form_from_election,
    read_money,
)
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from tests.support.proposals import Actor, program_body, proposal_body

RU = {**HTML, "accept-language": "ru"}
ZONE = "Europe/Moscow"


def accepted_program(people: dict[str, Actor]) -> tuple[int, list[int]]:
    """A programme in its voting phase with three accepted proposals of the Centre."""
    admin = people["admin"]
    body = program_body(support_threshold=0, cofund_percent=0)
    program = admin.call("POST", "/api/v1/programs", body).json()["id"]
    ids = []
    for title, cost in (("Benches", 1_000_000), ("Fountain", 3_000_000), ("Lights", 500_000)):
        made = people["author"].call(
            "POST", "/api/v1/proposals", proposal_body(program, title=title, cost=cost)
        )
        pid = made.json()["id"]
        people["author"].call("POST", f"/api/v1/proposals/{pid}/submit")
        ids.append(pid)
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "support"})
    for pid, cost in zip(ids, (1_000_000, 3_000_000, 500_000), strict=True):
        review = {"decision": "accept", "validated_cost": cost}
        assert (
            people["mod"].call("POST", f"/api/v1/proposals/{pid}/review", review).status_code == 200
        )
    admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": "voting"})
    return program, ids


def local(minutes: int) -> str:
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


def form(ids: list[int], **changes: str) -> dict[str, str]:
    base = {
        "picked": "1",
        "district": "centre",
        "id": "centre-built",
        "title": "Бюджет центра",
        "kind": "approval",
        "min_projects": "1",
        "max_projects": "2",
        "max_total_cost": "35 000",
        "rule": "mes",
        "completion": "add1",
        "satisfaction": "cost",
        "opens_at": local(60),
        "closes_at": local(60 * 24 * 7),
        "eligibility": "roll-codes",
        "revoting": "on",
        **{f"proposal-{pid}": "on" for pid in ids[:2]},
    }
    base.update(changes)
    return base


@PAGES_ON_SQLITE
def test_an_election_is_built_from_the_picked_proposals(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    program, ids = accepted_program(people)
    client = admin.use()
    page = client.get(f"/admin/programs/{program}/ballot", headers=RU)
    assert page.status_code == 200
    assert page.text.count('type="checkbox" id="proposal-') == 3
    csrf = csrf_from(page.text)
    preview = client.post(
        f"/admin/programs/{program}/ballot",
        headers=RU,
        data={**form(ids), "csrf_token": csrf, "action": "preview"},
    )
    assert preview.status_code == 200, preview.text
    assert "Готово" in preview.text  # no problem left
    assert "Benches" in preview.text and "Fountain" in preview.text
    assert "35\xa0000\xa0₽" in preview.text  # the cost limit, as typed, in roubles
    made = client.post(
        f"/admin/programs/{program}/ballot",
        headers=HTML,
        data={**form(ids), "csrf_token": csrf, "action": "create"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"] == "/admin/elections/centre-built/roll"
    election = admin.call("GET", "/api/v1/elections/centre-built").json()
    config = election.get("config", election)
    text = json.dumps(config)
    assert "Benches" in text and "Fountain" in text and "Lights" not in text
    assert '"max_total_cost": 3500000' in text and '"completion": "add1"' in text
    statuses = [admin.call("GET", f"/api/v1/proposals/{pid}").json()["status"] for pid in ids]
    assert statuses == ["on_ballot", "on_ballot", "accepted"]


@PAGES_ON_SQLITE
def test_a_refused_form_keeps_what_was_typed_and_says_what_to_fix(
    people: dict[str, Actor],
) -> None:
    admin = people["admin"]
    program, ids = accepted_program(people)
    client = admin.use()
    csrf = csrf_from(client.get(f"/admin/programs/{program}/ballot", headers=HTML).text)
    bad = form(
        ids,
        id="Centre Built!",
        max_projects="0",
        max_total_cost="1e9",
        closes_at=local(30),  # before it opens
    )
    refused = client.post(
        f"/admin/programs/{program}/ballot",
        headers=HTML,
        data={**bad, "csrf_token": csrf, "action": "create"},
        follow_redirects=False,
    )
    assert refused.status_code == 400
    assert 'value="Centre Built!"' in refused.text  # kept
    money = re.search(r'id="err-ballot-max_total_cost"[^>]*>([^<]*)<', refused.text)
    assert money is not None and "roubles" in money.group(1)
    assert admin.call("GET", "/api/v1/elections/centre-built").status_code == 404
    # With the money fixed, the configuration's own checks speak next to their fields.
    checked = client.post(
        f"/admin/programs/{program}/ballot",
        headers=HTML,
        data={**bad, "max_total_cost": "", "csrf_token": csrf, "action": "preview"},
    )
    slots = dict(re.findall(r'data-field="([^"]+)"[^>]*>([^<]+)<', checked.text))
    assert "id" in slots and slots["id"].strip()
    assert any(k.startswith("window") for k in slots)
    assert any(k.startswith("ballot.max_projects") or k == "ballot" for k in slots)
    nothing = client.post(
        f"/admin/programs/{program}/ballot",
        headers=HTML,
        data={
            **{k: v for k, v in form(ids).items() if not k.startswith("proposal-")},
            "csrf_token": csrf,
            "action": "create",
        },
    )
    assert nothing.status_code == 400 and "Pick at least one proposal" in nothing.text
    resident = people["r1"].use()
    assert resident.get(f"/admin/programs/{program}/ballot", headers=HTML).status_code == 403


@PAGES_ON_SQLITE
def test_the_json_view_is_the_same_object(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    program, ids = accepted_program(people)
    client = admin.use()
    csrf = csrf_from(client.get(f"/admin/programs/{program}/ballot", headers=HTML).text)
    election, problems = election_from_form(form(ids), time_zone=ZONE)
    assert problems == []
    election["ballot"]["max_projects"] = 3
    election["title"] = "From the text"
    read = client.post(
        f"/admin/programs/{program}/ballot",
        headers=HTML,
        data={
            **form(ids),
            "advanced": json.dumps(election),
            "csrf_token": csrf,
            "action": "advanced",
        },
    )
    assert read.status_code == 200
    assert 'id="title" name="title" value="From the text"' in read.text
    assert 'id="max_projects" name="max_projects" inputmode="numeric" value="3"' in read.text
    broken = client.post(
        f"/admin/programs/{program}/ballot",
        headers=HTML,
        data={**form(ids), "advanced": "{", "csrf_token": csrf, "action": "advanced"},
    )
    assert broken.status_code == 400 and "not a JSON object" in broken.text


def test_what_is_not_money_is_refused() -> None:
    for text in ("1e9", "-5", "1,005", "", "12 руб", "0x10", "1.2.3"):
        try:
            read_money(text, "ballot.max_total_cost")
        except FormProblem as exc:
            assert exc.field == "ballot.max_total_cost"
        else:
            raise AssertionError(f"{text!r} was read as money")


def test_the_form_read_back_from_the_object_is_the_form() -> None:
    original = form([1, 2])
    election, _ = election_from_form(original, time_zone=ZONE)
    again = form_from_election(election, time_zone=ZONE)
    for key in (
        "id",
        "title",
        "kind",
        "min_projects",
        "max_projects",
        "rule",
        "completion",
        "opens_at",
        "closes_at",
        "eligibility",
        "revoting",
    ):
        assert again[key] == original[key], key
    assert again["max_total_cost"] == "35000"
