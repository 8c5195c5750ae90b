"""User and administrator text is escaped on every page, in English and Russian.

A ``<script>`` in an election's title, a project's title, a proposal's title, a
programme's title and a district's name, and in the field names of a configuration an
administrator pastes (echoed back in its error messages), must come out as text. Only
fixed strings go through ``_()`` (whose result is trusted markup); a message the code
chooses goes through ``|tr``, which autoescaping still covers; the templates are checked
for it too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from litestar import Litestar

from kernel.accounts.schemas import DistrictIn
from kernel.i18n import TEMPLATES_DIR
from kernel.settings import Settings
from tests.support.elections import EARLY_CLOSE, config, when
from tests.support.pages import HTML, PAGES_ON_SQLITE, csrf_from
from tests.support.proposals import Actor, program_body, proposal_body
from veche.setup import add_districts

RAW = "<script>alert("
ESCAPED = "&lt;script&gt;alert("


def xss(what: str) -> str:
    return f'<script>alert("{what}")</script>'


@pytest.fixture(name="world")
def fx_world(app: Litestar, settings: Settings, people: dict[str, Actor]) -> dict[str, object]:
    """Hostile text everywhere an administrator or a resident can write it."""
    add_districts(settings, app.state.engine, [DistrictIn(code="shady", name=xss("district"))])
    admin = people["admin"]
    body = program_body(
        title=xss("program"),
        districts=[{"district": "shady", "budget": 100_000_000}],
        support_threshold=0,
    )
    program = admin.call("POST", "/api/v1/programs", body).json()["id"]
    draft = proposal_body(program, title=xss("proposal"), summary=xss("summary"),
                          district="shady")  # fmt: skip
    made = people["author"].call("POST", "/api/v1/proposals", draft)
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    assert people["author"].call("POST", f"/api/v1/proposals/{pid}/submit").status_code == 200
    election = config(
        "hostile-2027",
        title=xss("election"),
        district="shady",
        projects=[
            {"id": "park", "title": xss("project"), "cost": 400_000},
            {"id": "library", "title": "Library", "cost": 350_000},
        ],
        ballot={"kind": "approval", "min_projects": 1, "max_projects": 2},
        window={"opens_at": when(-5), "closes_at": when(60)},
    )
    created = admin.call("POST", "/api/v1/elections", election)
    assert created.status_code == 201, created.text
    assert admin.call("POST", "/api/v1/elections/hostile-2027/open").status_code == 200
    return {"program": program, "proposal": pid, "election": "hostile-2027"}


def check_page(actor: Actor | None, client_of: Actor, path: str, lang: str) -> str:
    client = actor.use() if actor is not None else client_of.client
    if actor is None:
        client.cookies.clear()
    page = client.get(path, headers={**HTML, "accept-language": lang})
    assert page.status_code == 200, (path, page.status_code)
    assert RAW not in page.text, f"{path} ({lang}) shows hostile text as markup"
    return page.text


@PAGES_ON_SQLITE
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_hostile_text_is_escaped_on_every_page(
    people: dict[str, Actor], world: dict[str, object], lang: str
) -> None:
    election, pid, program = world["election"], world["proposal"], world["program"]
    admin, author, mod = people["admin"], people["author"], people["mod"]
    shown: dict[str, list[str]] = {
        # path: the hostile words it must show, escaped
        "/": [],
        "/elections": ["election", "district"],
        f"/elections/{election}": ["election", "project"],
        f"/proposals?program={program}": ["proposal", "program"],
        f"/proposals/{pid}": ["proposal"],
        "/register": ["district"],
        "/log/entries": [],
    }
    for path, words in shown.items():
        text = check_page(None, admin, path, lang)
        for word in words:
            assert f"{ESCAPED}&#34;{word}&#34;)" in text, (path, word)
    for path, words in {
        "/admin/elections": ["election"],
        f"/admin/elections/{election}": ["election", "district"],
        "/admin/setup": ["election"],
    }.items():
        text = check_page(admin, admin, path, lang)
        for word in words:
            assert f"{ESCAPED}&#34;{word}&#34;)" in text, (path, word)
    assert ESCAPED in check_page(author, admin, "/proposals/mine", lang)
    assert ESCAPED in check_page(mod, admin, "/moderation", lang)
    check_page(author, admin, "/account", lang)

    # The results, after the close and the count.
    closed = admin.call("POST", f"/api/v1/elections/{election}/close", EARLY_CLOSE)
    assert closed.status_code == 200, closed.text
    assert admin.call("POST", f"/api/v1/elections/{election}/tally").status_code == 201
    text = check_page(None, admin, f"/elections/{election}/results", lang)
    for word in ("election", "project"):
        assert f"{ESCAPED}&#34;{word}&#34;)" in text
    # The log explorer shows the manifest's and the proposal's bytes: as text.
    entries = check_page(None, admin, "/log/entries?kind=election.opened", lang)
    for seq in sorted(set(re.findall(r'href="/log/entries/(\d+)"', entries))):
        check_page(None, admin, f"/log/entries/{seq}", lang)


@PAGES_ON_SQLITE
def test_a_pasted_configuration_is_echoed_as_text(people: dict[str, Actor]) -> None:
    admin = people["admin"]
    client = admin.use()
    page = client.get("/admin/setup", headers=HTML)
    # A whole configuration but for one field whose name is a script: the refusal
    # names that field.
    hostile = json.dumps({**config("pasted"), xss("field"): 1})
    answer = client.post(
        "/admin/setup",
        data={"config": hostile, "csrf_token": csrf_from(page.text)},
        headers=HTML,
    )
    assert answer.status_code == 400
    assert RAW not in answer.text
    problems = answer.text.split('class="error"')[1].split("</div>")[0]
    assert f"{ESCAPED}&#34;field&#34;)" in problems


@PAGES_ON_SQLITE
def test_register_errors_and_input_are_echoed_as_text(people: dict[str, Actor]) -> None:
    client = people["admin"].client
    client.cookies.clear()
    page = client.get("/register", headers=HTML)
    data = {
        "email": xss("email"),
        "display_name": xss("name"),
        "district": xss("district"),
        "password": "short",
        "csrf_token": csrf_from(page.text),
    }
    answer = client.post("/register", data=data, headers=HTML)
    assert answer.status_code == 400
    assert RAW not in answer.text


# Any call of gettext in a template: its first argument must be a string literal.
_CALL = re.compile(r"\b(?:_|gettext|ngettext|pgettext)\(\s*(.)")


def test_templates_give_gettext_fixed_strings_only() -> None:
    offenders = []
    for path in sorted(Path(TEMPLATES_DIR).rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _CALL.finditer(line):
                if match.group(1) not in "\"'":
                    offenders.append(f"{path.relative_to(TEMPLATES_DIR)}:{number}: {line.strip()}")
    assert offenders == []
