"""A voter votes with the keyboard alone: every control of the ballot page is reached
with Tab in the page's own order and worked with the keys (typing, Space, Enter); no
mouse, no script that clicks. The receipt is verified at the end."""

from __future__ import annotations

from contextlib import closing
from typing import Any

import httpx
import pytest

from kernel.db import make_engine
from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY
from tests.support.elections import config
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]
MAX_TABS = 80


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until ``selector`` has the focus (it must be reachable by keyboard)."""
    for _ in range(MAX_TABS):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_a_voter_votes_with_the_keyboard_alone(browser: Any, live_server: LiveServer) -> None:
    url = live_server.url
    engine = make_engine(live_server.settings)
    try:
        create_user(
            live_server.settings, engine, NewUser("admin@example.org", PASSWORD, "A", "admin")
        )
    finally:
        engine.dispose()
    admin = httpx.Client(base_url=url, timeout=60)
    with closing(admin):
        login = admin.post(
            "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
        )
        admin.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        assert admin.post("/api/v1/elections", json=config("keys-2027")).status_code == 201
        roll = admin.post(
            "/api/v1/elections/keys-2027/roll",
            content=b"voter_id\nK1\n",
            headers={"content-type": "text/csv"},
        )
        assert roll.status_code == 201
        code = admin.post("/api/v1/elections/keys-2027/access-codes").text.split("\n")[1]
        code = code.split(",")[1]
        assert admin.post("/api/v1/elections/keys-2027/open").status_code == 200

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/elections/keys-2027")
        page.locator("#credential-actions").wait_for()
        tab_to(page, "#access-code")
        page.keyboard.type(code)
        tab_to(page, "#use-code")
        page.keyboard.press("Enter")
        page.locator("#recovery-code").wait_for()
        last = page.locator("#recovery-code").inner_text()[-4:]
        tab_to(page, "#recovery-confirm")
        page.keyboard.type(last)
        page.keyboard.press("Enter")
        page.locator("#wallet-status").get_by_text("kept in this browser").wait_for()
        for project in ("Park", "Library"):
            box = page.get_by_label(project)
            tab_to(page, f"#{box.get_attribute('id')}")
            page.keyboard.press("Space")
            assert box.is_checked()
        tab_to(page, "#cast")
        page.keyboard.press("Enter")
        page.locator("#receipt-status").get_by_text("Your ballot is in the log").wait_for()
    finally:
        context.close()
    assert errors == []
