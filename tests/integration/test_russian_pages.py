"""No English on Russian pages: a crawler follows every link of the site in Russian —
anonymously, as a resident, a moderator and an administrator — over programmes,
proposals in several states, an election with its results and the log, and fails on
any English word in what a reader sees (text, labels, alternative texts), except a
few proper names. The data is in Russian, so any English found is the site's own."""

from __future__ import annotations

import json
import re

import pytest
from litestar import Litestar

import tests.support.elections as elections
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from tests.support.proposals import Actor, login, make_program, phase, proposal_body
from tests.support.russian import as_russian, crawl, english_words
from veche.setup import NewUser, create_user

RUSSIAN_PROJECTS = [
    {"id": "park", "title": "Парк у реки", "cost": 400_000},
    {"id": "library", "title": "Читальный зал", "cost": 350_000},
    {"id": "playground", "title": "Детская площадка", "cost": 300_000},
    {"id": "bench", "title": "Скамейки", "cost": 50_000},
    {"id": "lights", "title": "Фонари", "cost": 250_000},
]


@pytest.fixture(name="russian_site")
def fx_russian_site(
    client: Client, app: Litestar, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Actor]:
    """An election with its results, a programme with proposals in several states; the
    people who made them, logged in."""
    plain_config = elections.config
    monkeypatch.setattr(elections, "PROJECTS", RUSSIAN_PROJECTS)
    monkeypatch.setattr(
        elections, "config", lambda *a, **kw: {**plain_config(*a, **kw), "title": "Центр 2026"}
    )
    election_id, _choices = elections.run_election(
        client, app, settings, {"name": "mes", "completion": "add1"}, voters=6
    )
    engine = app.state.engine
    create_user(settings, engine, NewUser("mod@example.org", PASSWORD, "Модератор", "moderator"))
    for i in range(3):
        create_user(
            settings,
            engine,
            NewUser(f"r{i}@example.org", PASSWORD, f"Житель {i}", "resident", "centre", True),
        )
    people = {
        "admin": login(client, "admin@example.org"),
        "mod": login(client, "mod@example.org"),
        "author": login(client, "r0@example.org"),
        "r1": login(client, "r1@example.org"),
    }
    admin = people["admin"]
    assert admin.call("POST", f"/api/v1/elections/{election_id}/tally").status_code in (200, 201)
    # And an election open now: its ballot page.
    elections.open_election(
        admin.use(),
        {"X-CSRF-Token": admin.csrf},
        election_id="sever-2026",
        district="north",
        projects=RUSSIAN_PROJECTS[:3],
    )
    program = make_program(
        admin,
        title="Бюджет 2027",
        categories=["Парки", "Дороги"],
        cofund_percent=5,
        support_threshold=1,
    )
    russian = {"title": "Скамейки в сквере", "summary": "Десять скамеек", "category": "Парки",
               "description": "Деревянные скамейки вдоль аллеи."}  # fmt: skip
    ids = []
    for k in range(3):
        made = people["author"].call(
            "POST",
            "/api/v1/proposals",
            proposal_body(program, **{**russian, "title": f"Проект {k}"}),
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
        people["author"].call("POST", f"/api/v1/proposals/{ids[-1]}/submit")
    people["author"].call("POST", "/api/v1/proposals", proposal_body(program, **russian))  # a draft
    phase(admin, program, "support")
    people["r1"].call("POST", f"/api/v1/proposals/{ids[0]}/support")
    people["r1"].call("POST", f"/api/v1/proposals/{ids[0]}/pledges", {"amount": 10_000})
    phase(admin, program, "review")
    return people


@PAGES_ON_SQLITE
def test_no_english_on_russian_pages(russian_site: dict[str, Actor], client: Client) -> None:
    starts = ["/", "/programs", "/proposals", "/elections", "/log", "/check", "/login",
              "/register", "/elections/centre-2026", "/elections/centre-2026/results",
              "/elections/sever-2026",
              "/proposals/999999", "/nowhere"]  # fmt: skip
    found: dict[str, list[str]] = {}
    for who in (None, "author", "mod", "admin"):
        actor = russian_site[who] if who else None
        used = as_russian(actor, client)
        extra = ["/account", "/proposals/mine", "/moderation", "/admin/elections",
                 "/staff/residents", "/admin/elections/centre-2026", "/admin/setup"]  # fmt: skip
        for path, words in crawl(used, starts + (extra if actor else [])).items():
            found[f"{who or 'anonymous'} {path}"] = words
    summary: dict[str, set[str]] = {}
    for page, words in found.items():
        for word in words:
            summary.setdefault(word, set()).add(re.sub(r"\d+", "#", page))
    assert not found, "\n".join(f"{w}: {sorted(p)[:4]}" for w, p in sorted(summary.items()))


@PAGES_ON_SQLITE
def test_no_english_in_a_receipt_check_in_russian(
    russian_site: dict[str, Actor], client: Client
) -> None:
    used = as_russian(None, client)
    form = used.get("/check", headers=HTML)
    token = csrf_from(form.text)
    for text in ("<b>не квитанция</b>", json.dumps({"election": "x", "seq": 1}), "[]"):
        answer = used.post("/check", data={"receipt": text, "csrf_token": token}, headers=HTML)
        assert answer.status_code < 500
        assert not english_words(answer.text), (text, english_words(answer.text))


def test_the_crawler_finds_english_when_there_is_some() -> None:
    page = '<html lang="ru"><p>Проект <b>is funded</b></p><code>veche verify</code></html>'
    assert english_words(page) == ["is", "funded"]
    assert english_words('<img alt="A photo"><span translate="no">Veche</span>') == ["photo"]


@PAGES_ON_SQLITE
def test_a_refused_configuration_is_explained_in_russian(
    russian_site: dict[str, Actor], client: Client
) -> None:
    admin = russian_site["admin"]
    used = as_russian(admin, client)
    page = used.get("/admin/setup", headers=HTML)
    token = csrf_from(page.text)
    wrong = plain_toml(
        budget=-5, currency="rub", window=("2027-03-02T00:00:00Z", "2027-03-01T00:00:00Z")
    )
    answer = used.post("/admin/setup", data={"config": wrong, "csrf_token": token}, headers=HTML)
    assert answer.status_code == 400
    assert "Голосование должно закрываться после открытия." in answer.text
    assert "Валюта — три заглавные латинские буквы" in answer.text
    assert not english_words(answer.text), english_words(answer.text)


def plain_toml(*, budget: int, currency: str, window: tuple[str, str]) -> str:
    opens, closes = window
    return f"""id = "proba-2027"
title = "Проба"
district = "centre"
budget = {budget}
currency = "{currency}"
rsa_key_bits = 1024

[[projects]]
id = "park"
title = "Парк"
cost = 100

[ballot]
kind = "approval"
min_projects = 1
max_projects = 1

[rule]
name = "greedy"

[window]
opens_at = "{opens}"
closes_at = "{closes}"

[eligibility]
residents = true
roll = false
access_codes = false
"""
