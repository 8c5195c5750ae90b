"""Phones: the menu folds behind a button instead of wrapping over several lines, opens
and closes with it (and Escape), and the election setup page fits a 390 px screen."""

from __future__ import annotations

from typing import Any

import pytest

from kernel.db import make_engine
from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]


def test_the_menu_is_a_button_on_a_phone(browser: Any, live_server: LiveServer) -> None:
    url = live_server.url
    engine = make_engine(live_server.settings)
    try:
        create_user(
            live_server.settings, engine, NewUser("admin@example.org", PASSWORD, "A", "admin")
        )
    finally:
        engine.dispose()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login = page.request.post(
            url + "/api/v1/auth/login", data={"email": "admin@example.org", "password": PASSWORD}
        )
        assert login.ok
        page.goto(url + "/")
        header = page.locator("header.site")
        button = page.locator("#menu-button")
        menu = page.locator("#site-menu")
        assert button.is_visible() and not menu.is_visible()
        # One line: the brand, the languages and the button.
        assert header.bounding_box()["height"] < 80
        button.click()
        assert menu.is_visible() and button.get_attribute("aria-expanded") == "true"
        page.get_by_role("link", name="Proposals").or_(
            page.get_by_role("link", name="Предложения")
        ).first.wait_for()
        page.keyboard.press("Escape")
        assert not menu.is_visible() and button.get_attribute("aria-expanded") == "false"
        assert page.evaluate("document.activeElement.id") == "menu-button"
        # The setup page fits the phone's width.
        page.goto(url + "/admin/setup")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        # On a laptop the menu is a line of links, with no button.
        page.set_viewport_size({"width": 1366, "height": 768})
        assert menu.is_visible() and not button.is_visible()
        assert errors == []
    finally:
        context.close()


def test_without_javascript_the_menu_stays_open(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/")
        assert page.locator("#site-menu").is_visible()
        assert not page.locator("#menu-button").is_visible()
    finally:
        context.close()
