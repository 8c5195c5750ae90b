"""The election pages, the results, "check my ballot", the log explorer and the admin
dashboard over HTTP: what they show, escaping, guards, and the no-JavaScript fallback."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from litestar import Litestar
from markupsafe import escape

from ballot.core.client import VoterClient
from kernel.settings import Settings
from tests.support.accounts import Client, login, resident
from tests.support.elections import (
    RESIDENTS,
    config,
    open_election,
    run_election,
    verified_residents,
)
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from tests.support.proposals import log_in_all, make_program, phase, setup_people, submitted

pytestmark = PAGES_ON_SQLITE


def test_open_election_ballot_page(client: Client, admin: dict[str, str]) -> None:
    title = 'Centre <script>alert("x")</script>'
    projects = [
        {"id": "park", "title": "Park & <b>pond</b>", "cost": 400_000},
        {"id": "library", "title": "Library", "cost": 350_000},
        {"id": "playground", "title": "Playground", "cost": 300_000},
    ]
    open_election(client, admin, title=title, projects=projects)
    listing = client.get("/elections", headers=HTML)
    assert listing.status_code == 200
    assert "<script>alert" not in listing.text
    assert "Centre &lt;script&gt;" in listing.text
    assert "District: Centre<" in listing.text  # the name in the page's language
    page = client.get("/elections/centre-2026", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "Park &amp; &lt;b&gt;pond&lt;/b&gt;" in text
    assert 'data-limit="1000000"' in text and 'data-kind="approval"' in text
    assert 'data-cost="400000"' in text
    assert "₽4,000" in text  # 400 000 kopecks
    assert "<noscript>" in text and "veche vote" in text
    # Every form control has a label.
    for control in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', text):
        assert f'for="{control}"' in text, control
    assert client.get("/elections/centre-2026/results", headers=HTML).status_code == 200
    assert client.get("/elections/nope", headers=HTML).status_code == 404
    russian = client.get("/elections/centre-2026", headers={**HTML, "accept-language": "ru"})
    assert "Отправить бюллетень" in russian.text


@pytest.mark.parametrize(
    ("ballot", "marker"),
    [
        ({"kind": "cumulative", "total_points": 5, "max_per_project": 3}, 'data-total-points="5"'),
        ({"kind": "ordinal", "max_length": 2}, 'id="rank-2"'),
        ({"kind": "choice", "min_options": 1, "max_options": 1}, 'type="radio"'),
    ],
)
def test_every_ballot_kind_has_its_form(
    client: Client, admin: dict[str, str], ballot: dict[str, Any], marker: str
) -> None:
    rule = {"name": "plurality"} if ballot["kind"] == "choice" else {"name": "greedy"}
    if ballot["kind"] == "ordinal":
        rule = {"name": "borda"}
    changes: dict[str, Any] = {}
    if ballot["kind"] in {"choice", "ordinal"}:  # polls: no budget, no costs
        changes["budget"] = 0
        changes["projects"] = [{**p, "cost": 0} for p in config()["projects"]]
    cfg = config(ballot=ballot, rule=rule, **changes)
    created = client.post("/api/v1/elections", json=cfg, headers=admin)
    assert created.status_code == 201, created.text
    assert client.post(f"/api/v1/elections/{cfg['id']}/open", headers=admin).status_code == 200
    page = client.get(f"/elections/{cfg['id']}", headers=HTML)
    assert page.status_code == 200
    assert marker in page.text


@pytest.mark.parametrize("rule", [{"name": "greedy"}, {"name": "mes", "completion": "add1"}])
def test_results_page_explains_and_links(
    client: Client, app: Litestar, settings: Settings, rule: dict[str, Any]
) -> None:
    election_id, _choices = run_election(client, app, settings, rule, voters=12)
    admin = login(client, "admin@example.org")
    waiting = client.get(f"/elections/{election_id}/results", headers=HTML)
    assert "has not been published yet" in waiting.text
    view = client.post(f"/api/v1/elections/{election_id}/tally", headers=admin).json()
    page = client.get(f"/elections/{election_id}/results", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "<svg" in text and 'class="bar won"' in text
    assert f"/api/v1/elections/{election_id}/export.pb" in text
    assert f"/api/v1/elections/{election_id}/result" in text
    assert "veche verify http://testserver.local --key" in text
    assert f"<dd>{view['counted']}</dd>" in text
    if rule["name"] == "mes":
        assert "equal share of the budget" in text and "at most" in text
    else:
        assert "of the budget is left" in text
    ru = client.get(f"/elections/{election_id}/results", headers={**HTML, "accept-language": "ru"})
    assert ru.status_code == 200 and 'lang="ru"' in ru.text
    # Every link the page shows answers.
    for href in set(re.findall(r'href="(/[^"]*)"', text)):
        assert client.get(href.replace("&amp;", "&"), headers=HTML).status_code == 200, href


def test_check_my_ballot_without_javascript(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    verified_residents(app, settings, "olga")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallet = voter.obtain_credential(info, headers=login(client, "olga@example.org"))
    client.cookies.clear()
    receipt = voter.cast(info, wallet, {"approve": ["park"]})
    form = client.get("/check", headers=HTML)
    token = csrf_from(form.text)
    good = client.post("/check", data={"receipt": json.dumps(receipt), "csrf_token": token})
    assert good.status_code == 200
    assert f"Entry {receipt['seq']} of the log holds the ballot you sent" in good.text
    forged = {**receipt, "proof": receipt["proof"][1:] or ["00" * 32]}
    bad = client.post("/check", data={"receipt": json.dumps(forged), "csrf_token": token})
    assert "inclusion proof does not hold" in bad.text
    junk = client.post("/check", data={"receipt": "<b>nope</b>", "csrf_token": token})
    assert junk.status_code == 400
    assert "This is not a receipt." in junk.text and "<b>nope</b>" not in junk.text
    # A saved wallet is accepted too: its receipts are checked, its secrets not shown.
    as_wallet = json.dumps(wallet.to_json())
    again = client.post("/check", data={"receipt": as_wallet, "csrf_token": token})
    assert f"Entry {receipt['seq']} of the log holds the ballot you sent" in again.text
    assert wallet.credential_private not in again.text


def test_explorer_pages(client: Client, admin: dict[str, str]) -> None:
    open_election(client, admin)
    overview = client.get("/log", headers=HTML)
    assert overview.status_code == 200
    assert "veche verify http://testserver.local --key" in overview.text
    assert "election.opened" in overview.text
    entries = client.get("/log/entries?kind=election.opened", headers=HTML)
    assert entries.status_code == 200 and "/log/entries/1" in entries.text
    entry = client.get("/log/entries/1", headers=HTML)
    assert entry.status_code == 200
    raw = client.get("/api/v1/log/entries?start=1&end=2").content.rstrip(b"\n")
    assert str(escape(raw.decode())) in entry.text
    assert hashlib.sha256(b"\x00" + raw).hexdigest() in entry.text
    assert client.get("/log/entries/0", headers=HTML).status_code == 200
    assert client.get("/log/entries/999", headers=HTML).status_code == 404
    assert client.get("/log/entries?page=99", headers=HTML).status_code == 200
    assert client.get("/log/checkpoints", headers=HTML).status_code == 200


def test_admin_dashboard(
    client: Client, app: Litestar, settings: Settings, admin: dict[str, str]
) -> None:
    verified_residents(app, settings, "olga", "ivan")
    election_id = open_election(client, admin, eligibility=RESIDENTS)
    voter = VoterClient(client)
    info = voter.election(election_id, allow_test_keys=True)
    wallets = [
        voter.obtain_credential(info, headers=login(client, f"{name}@example.org"))
        for name in ("olga", "ivan")
    ]
    client.cookies.clear()
    for wallet in wallets:
        voter.cast(info, wallet, {"approve": ["park"]})
    voter.cast(info, wallets[0], {"approve": ["library"]})
    anonymous = client.get(f"/admin/elections/{election_id}", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303
    resident(client, app, settings, "pyotr")  # logs in as a resident
    assert client.get(f"/admin/elections/{election_id}", headers=HTML).status_code == 403
    login(client, "admin@example.org")
    page = client.get(f"/admin/elections/{election_id}", headers=HTML)
    assert page.status_code == 200
    assert '<dd id="issued">2</dd>' in page.text
    assert '<dd id="ballots">3</dd>' in page.text
    assert "<polyline" in page.text
    centre = re.search(r"Centre \*</th><td>(\d+)</td><td>(\d+)</td>", page.text)
    assert centre and centre.groups() == ("3", "2")
    # The proposals package runs in this app: its pipeline is on the dashboard too.
    assert "Proposals pipeline" in page.text
    assert client.get("/admin/elections", headers=HTML).status_code == 200


def test_dashboard_shows_the_proposals_pipeline_with_review_times(
    client: Client, app: Litestar, settings: Settings
) -> None:
    setup_people(app, settings)
    people = log_in_all(client)
    program = make_program(people["admin"])
    pid = submitted(people, program)
    submitted(people, program, title="A fountain", cost=2_000_000)
    phase(people["admin"], program, "support")
    for name in ("r1", "r2"):  # the second support sends it to review
        assert people[name].call("POST", f"/api/v1/proposals/{pid}/support").status_code == 200
    review = {"decision": "accept", "validated_cost": 1_200_000}
    assert people["mod"].call("POST", f"/api/v1/proposals/{pid}/review", review).status_code == 200
    created = people["admin"].call("POST", "/api/v1/elections", config())
    assert created.status_code == 201, created.text
    page = people["admin"].use().get("/admin/elections/centre-2026", headers=HTML)
    assert page.status_code == 200
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td></tr>', page.text))
    assert rows.get("Accepted") == "1" and rows.get("Gathering support") == "1", rows
    assert "Reviews finished: 1." in page.text
    assert "Median review time: 0 h" in page.text
