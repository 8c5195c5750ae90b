"""How Debian's Chromium is started for the browser tests, and the steps several of them
share: logging in on a Russian phone, answering the city survey on one."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from veche.setup import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def open_menu(page: object) -> None:
    """On a phone the site's menu is behind its button: open it if it is closed."""
    button = page.locator("#menu-button")  # type: ignore[attr-defined]
    if button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()


# What a page does in the browser does not depend on the database engine, which the HTTP
# tests cover on both: browser tests run their server on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("engine_name", ["sqlite"])


def log_in(browser: Any, url: str, email: str) -> Any:
    """A Russian phone's browser context logged in as ``email`` (a demo account), and its
    page, on the home page."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    context.add_cookies([{"name": "veche_lang", "value": "ru", "url": url}])
    page = context.new_page()
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(url + "/")
    return context, page


def answer_on_a_phone(page: Any, url: str, code: str) -> None:
    """Get a credential with the code, then answer: the scale first left out (refused at
    its question), the cycling question changed back and forth."""
    page.goto(f"{url}/elections/city-survey")
    page.locator("#access-code").fill(code)
    page.locator("#use-code").click()
    page.locator("#recovery-code").wait_for()
    last = page.locator("#recovery-code").inner_text()[-4:]
    page.locator("#recovery-confirm").fill(last)
    page.locator("#confirm-code").click()
    lanes = page.locator("#q-lanes")
    assert lanes.is_hidden()  # asked only of those who cycle
    page.locator("#q-cycle").get_by_label("Yes").check()
    lanes.wait_for(state="visible")
    lanes.locator("textarea").fill("Along the river")
    assert "15 из 200" in lanes.locator(".q-count").inner_text()
    page.locator("#q-priorities").get_by_label("Parks").check()
    page.locator("#q-transport select").first.select_option("tram")
    page.locator("#q-projects input[value=park]").check()
    # The scale is not answered: the ballot is not cast, the question says why.
    page.locator("#cast").click()
    page.locator("#q-parks-error").get_by_text("Ответьте, пожалуйста, на этот вопрос.").wait_for()
    assert "отмеченные вопросы" in page.locator("#ballot-error").inner_text()
    assert lanes.locator("textarea").input_value() == "Along the river"  # kept
    # Changing the earlier answer hides the condition's question, and back again.
    page.locator("#q-cycle").get_by_label("No").check()
    lanes.wait_for(state="hidden")
    page.locator("#q-cycle").get_by_label("Yes").check()
    lanes.wait_for(state="visible")
    assert lanes.locator("textarea").input_value() == "Along the river"
    page.locator("#q-parks label[for='q-parks-7']").click()
    assert page.locator("#q-parks-error").inner_text() == ""


def phone(browser: Any, url: str) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ru-RU")
    context.route(lambda address: not address.startswith(url), lambda route: route.abort())
    context.add_cookies([{"name": "veche_lang", "value": "ru", "url": url}])
    return context
