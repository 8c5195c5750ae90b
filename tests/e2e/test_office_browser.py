"""In Chromium, in Russian, on a phone-sized screen: an administrator sets a district's
budget in roubles, makes a programme in the form (a refused form keeps what was typed),
sees its phases on the timeline and moves it forward after the confirmation; the menu
leads to each page. Nothing overflows the screen sideways."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY, open_menu
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]
PHONE = {"width": 390, "height": 844}


def no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_admin_budgets_and_programme_in_russian_on_a_phone(
    browser: Any, live_server: LiveServer
) -> None:
    url = live_server.url
    engine = create_engine(live_server.settings.effective_database_url)
    try:
        create_user(
            live_server.settings, engine, NewUser("admin@example.org", PASSWORD, "A", "admin")
        )
    finally:
        engine.dispose()
    context = browser.new_context(locale="ru-RU", viewport=PHONE)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url + "/login")
        page.locator("#email").fill("admin@example.org")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Войти").click()
        page.wait_for_url(url + "/")
        open_menu(page)
        page.get_by_role("link", name="Управление", exact=True).click()
        page.get_by_role("link", name="Районы", exact=True).click()
        page.wait_for_url(url + "/office/districts")
        no_sideways_scroll(page)
        page.locator("#budget-centre").fill("1 500 000,50")
        page.locator("#district-centre button").click()
        page.wait_for_url("**/office/districts?saved=centre*")
        assert page.locator("#budget-centre").input_value() == "1\u00a0500\u00a0000,50"

        open_menu(page)
        page.get_by_role("link", name="Управление", exact=True).click()
        page.locator("main").get_by_role("link", name="Программы", exact=True).click()
        page.get_by_role("link", name="Новая программа").click()
        page.locator("#title").fill("Народный бюджет")
        page.locator("input[name=submission_starts]").fill("01.03.2027")
        page.locator("input[name=submission_ends]").fill("31.03.2027")
        page.locator("input[name=support_starts]").fill("01.05.2027")
        page.locator("input[name=support_ends]").fill("01.04.2027")
        form = page.locator("form[action='/office/programs/new']")
        form.get_by_role("button", name="Создать программу").click()
        assert page.locator("#categories-error").is_visible()
        assert page.locator("#support-error").inner_text() == (
            "Этап заканчивается раньше, чем начинается."
        )
        assert page.locator("#title").input_value() == "Народный бюджет"
        assert page.locator("#budget_centre").input_value() == "1\u00a0500\u00a0000,50"
        no_sideways_scroll(page)
        page.locator("#categories").fill("Парки\nДороги")
        page.locator("input[name=support_ends]").fill("31.05.2027")
        form.get_by_role("button", name="Создать программу").click()
        page.wait_for_url("**/office/programs/*?created=1")
        assert (
            page.locator("ol.timeline li[aria-current=step]")
            .inner_text()
            .startswith("Подача проектов")
        )
        no_sideways_scroll(page)
        page.get_by_role("link", name="Перейти к следующему этапу: Поддержка").click()
        assert "не может вернуться" in page.locator(".consequences").inner_text()
        page.get_by_role("button", name="Да, перейти к этапу «Поддержка»").click()
        page.wait_for_url("**?moved=1")
        assert (
            page.locator("ol.timeline li[aria-current=step]").inner_text().startswith("Поддержка")
        )
    finally:
        context.close()
    assert errors == []
    with httpx.Client(base_url=url) as client:
        programs = client.get("/api/v1/programs").json()
    assert programs[0]["districts"] == [{"district": "centre", "budget": 150_000_050}]
    assert programs[0]["phase"] == "support"
