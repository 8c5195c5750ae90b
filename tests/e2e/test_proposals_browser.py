"""In Chromium, in Russian: a resident submits a proposal with a point chosen on the map,
another resident supports it and pledges, and a moderator accepts it. The browser has
no network, so the map shows no tiles; choosing the point by clicking must still work."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from tests.support.accounts import PASSWORD
from tests.support.browser import SQLITE_ONLY
from tests.support.paths import ARTIFACTS
from tests.support.proposals import program_body
from tests.support.server import LiveServer
from veche.setup import NewUser, create_user

pytestmark = [pytest.mark.browser, SQLITE_ONLY]


def people(live_server: LiveServer) -> None:
    settings = live_server.settings
    engine = create_engine(settings.effective_database_url)
    try:
        for new in (
            NewUser("admin@example.org", PASSWORD, "Admin", "admin"),
            NewUser("mod@example.org", PASSWORD, "Модератор", "moderator"),
            # Supports and pledges count only from confirmed addresses.
            NewUser("olga@example.org", PASSWORD, "Ольга", "resident", "centre", True),
            NewUser("ivan@example.org", PASSWORD, "Иван", "resident", "centre", True),
        ):
            create_user(settings, engine, new)
    finally:
        engine.dispose()


def admin_call(url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(base_url=url) as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": "admin@example.org", "password": PASSWORD}
        )
        headers = {"X-CSRF-Token": login.json()["csrf_token"]}
        response = client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())


def log_in(page: Any, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(url + "/")


def test_submit_support_pledge_accept_in_russian(browser: Any, live_server: LiveServer) -> None:
    url = live_server.url
    people(live_server)
    program = admin_call(
        url,
        "/api/v1/programs",
        program_body(support_threshold=1, cofund_percent=5, title="Бюджет 2027"),
    )
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []

    def session(email: str) -> tuple[Any, Any]:
        context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log_in(page, url, email)
        return context, page

    context, page = session("olga@example.org")
    try:
        page.goto(url + "/proposals")
        page.get_by_role("link", name="Предложить проект").click()
        page.locator("#title").fill("Скамейки в сквере <b>")
        page.locator("#summary").fill("Десять скамеек вдоль аллеи")
        page.locator("#category").select_option("Parks")
        page.locator("#district").select_option("centre")
        page.locator("#cost").fill("150000")
        # No tiles load (no network), but the map takes the click and fills the fields.
        page.wait_for_function("() => document.querySelector('.leaflet-container') !== null")
        page.locator("#map").click(position={"x": 200, "y": 120})
        latitude = page.locator("#latitude").input_value()
        longitude = page.locator("#longitude").input_value()
        assert latitude and longitude, "clicking the map chose no point"
        page.get_by_role("button", name="Подать проект").click()
        page.wait_for_url("**/proposals/*")
        assert page.locator("#proposal-title").inner_text() == "Скамейки в сквере <b>"
        # In the submission phase a submitted proposal is not yet gathering support.
        assert page.locator("#proposal-status").inner_text() == "Подан"
        assert page.locator(".leaflet-marker-icon").count() == 1
        proposal_url = page.url
        page.screenshot(path=str(ARTIFACTS / "proposal-submitted-ru.png"), full_page=True)
    finally:
        context.close()

    admin_call(url, f"/api/v1/programs/{program['id']}/phase", {"phase": "support"})

    context, page = session("ivan@example.org")
    try:
        page.goto(proposal_url)
        page.locator("#amount").fill("7500")
        page.get_by_role("button", name="Внести взнос").click()
        page.wait_for_url("**#cofunding")
        assert page.locator("#cofund-progress").get_attribute("value") == "100"
        page.get_by_role("button", name="Поддержать проект").click()
        page.wait_for_url("**#support")
        assert page.get_by_text("Вы поддерживаете этот проект.").is_visible()
        assert page.locator("#proposal-status").inner_text() == "На экспертизе"
    finally:
        context.close()

    context, page = session("mod@example.org")
    try:
        page.goto(url + "/moderation")
        assert page.get_by_text("Скамейки в сквере <b>").is_visible()
        page.get_by_label("Подтверждённая стоимость").fill("160000")
        page.get_by_role("button", name="Принять как реализуемый").click()
        page.wait_for_url("**/moderation")
        assert page.get_by_text("Проектов, ожидающих экспертизы, нет.").is_visible()
        page.goto(proposal_url)
        assert page.locator("#proposal-status").inner_text() == "Принят"
        assert "160" in page.locator("#validated-cost").inner_text()
        page.screenshot(path=str(ARTIFACTS / "proposal-accepted-ru.png"), full_page=True)
    finally:
        context.close()
    assert errors == []
