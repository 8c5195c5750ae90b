"""The administrators' election page: create from TOML, see field errors, open, close."""

from __future__ import annotations

import re

from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client, login
from tests.support.elections import when
from tests.support.pages import HTML, csrf_from
from tests.support.paths import EXAMPLE_ELECTION
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user


def test_admin_configures_and_runs_an_election_from_the_page(
    client: Client, app: Litestar, settings: Settings
) -> None:
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    create_user(settings, app.state.engine, NewUser("admin@example.org", PASSWORD, "A", "admin"))
    create_user(
        settings, app.state.engine, NewUser("res@example.org", PASSWORD, "R", "resident", "centre")
    )
    login(client, "res@example.org")
    assert client.get("/admin/setup", headers=HTML).status_code == 403
    login(client, "admin@example.org")
    page = client.get("/admin/setup", headers=HTML)
    assert page.status_code == 200
    assert "No elections yet." in page.text

    text = EXAMPLE_ELECTION.read_text(encoding="utf-8")
    text = re.sub(r'opens_at = "[^"]+"', f'opens_at = "{when(-5)}"', text)
    text = re.sub(r'closes_at = "[^"]+"', f'closes_at = "{when(60)}"', text)
    bad = client.post(
        "/admin/setup",
        headers=HTML,
        data={
            "config": text.replace("budget = 250_000_000", "budget = 0"),
            "csrf_token": csrf_from(page.text),
        },
    )
    assert bad.status_code == 400
    assert "<code>budget</code>" in bad.text
    assert "riverside" in bad.text  # the text typed is kept
    garbage = client.post(
        "/admin/setup", headers=HTML, data={"config": "id = [", "csrf_token": csrf_from(page.text)}
    )
    assert garbage.status_code == 400 and "TOML" in garbage.text

    made = client.post(
        "/admin/setup",
        headers=HTML,
        follow_redirects=False,
        data={"config": text, "csrf_token": csrf_from(page.text)},
    )
    assert made.status_code == 303
    listed = client.get("/admin/setup", headers=HTML)
    assert "riverside-2027" in listed.text
    opened = client.post(
        "/admin/setup/riverside-2027/open",
        headers=HTML,
        data={"csrf_token": csrf_from(listed.text)},
        follow_redirects=False,
    )
    assert opened.status_code == 303
    assert client.get("/api/v1/elections/riverside-2027").json()["status"] == "open"
    closed = client.post(
        "/admin/setup/riverside-2027/close",
        headers=HTML,
        data={"csrf_token": csrf_from(listed.text), "early": "on", "reason": "Storm warning"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    counted = client.post(
        "/admin/setup/riverside-2027/tally",
        headers=HTML,
        data={"csrf_token": csrf_from(listed.text)},
        follow_redirects=False,
    )
    assert counted.status_code == 303
    assert client.get("/api/v1/elections/riverside-2027").json()["status"] == "tallied"
    again = client.post(
        "/admin/setup/riverside-2027/open",
        headers=HTML,
        data={"csrf_token": csrf_from(listed.text)},
    )
    assert again.status_code == 400
    forged = client.post(
        "/admin/setup/riverside-2027/close", headers=HTML, data={"csrf_token": "forged"}
    )
    assert forged.status_code == 403
