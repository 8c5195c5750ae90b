"""Residents' reports in Chromium, in Russian, on the demo: a resident reports a pothole
with a photo; the roads department takes it and answers with a photo of the work; the
resident rates it 2 with a comment and the report is reopened; the supervisor sees it
with the month's overdue reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import log_in
from tests.support.images import png
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


def test_a_report_is_answered_rated_low_and_reopened_in_the_browser(
    browser: Any, demo_server: LiveServer, tmp_path: Path
) -> None:
    url = demo_server.url
    picture = tmp_path / "pothole.png"
    picture.write_bytes(png(64, 48))
    errors: list[str] = []

    # The resident reports, with a photo and a point inside the Centre.
    context, page = log_in(browser, url, "anna@demo.veche")
    try:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/reports/new")
        page.locator("#category").select_option("potholes")
        page.locator("#description").fill("Глубокая яма у остановки, браузерный тест")
        page.locator("#latitude").fill("55.7512")
        page.locator("#longitude").fill("37.6184")
        if page.locator("#district").count():
            page.locator("#district").select_option("centre")
        page.locator("#file").set_input_files(str(picture))
        page.get_by_role("button", name="Отправить обращение").click()
        # Nearby reports of the same kind are offered first; this one is new.
        if page.get_by_role("button", name="Отправить обращение").count():
            page.locator("#file").set_input_files(str(picture))
            page.get_by_role("button", name="Отправить обращение").click()
        page.wait_for_url("**/reports/*")
        report_url = page.url
        assert "/reports/new" not in report_url
        assert page.locator("img").count() >= 1
    finally:
        context.close()

    # The roads department takes it in work and answers with a photo of the work done.
    context, page = log_in(browser, url, "roads@demo.veche")
    try:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report_url)
        page.get_by_role("button", name="Взять в работу").click()
        page.locator("#proof").set_input_files(str(picture))
        page.locator("#proof").locator("xpath=..").get_by_role("button", name="Загрузить").click()
        page.wait_for_load_state()
        page.locator("#text").fill("Яма заделана, фото приложено.")
        page.get_by_role("button", name="Отправить ответ").click()
        page.wait_for_load_state()
    finally:
        context.close()

    # The resident rates it 2, with a comment: the report goes back to the supervisor.
    context, page = log_in(browser, url, "anna@demo.veche")
    try:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(report_url)
        page.locator("input[name=rating][value='2']").check()
        page.locator("#comment").fill("Яму засыпали песком, она снова появилась.")
        page.get_by_role("button", name="Оценить").click()
        page.wait_for_load_state()
        assert "возвращено" in page.locator("main").inner_text().lower()
    finally:
        context.close()

    # The supervisor sees the reopened report and the month's overdue ones.
    context, page = log_in(browser, url, "supervisor@demo.veche")
    try:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/reports/overdue")
        # The demo's month holds reports past their deadline.
        assert page.locator("main a[href^='/reports/']").count() >= 1
        assert "просроч" in page.locator("main").inner_text().lower()
        page.goto(report_url)
        assert page.get_by_role("button", name="Вернуть в работу").count() == 1
    finally:
        context.close()
    assert errors == []
