"""The management centre's analytics of reports (docs/protocol.md §16.10) in Chromium, in
Russian, on a phone, on the demo: the supervisor narrows the figures to one district with
the form and downloads a table as CSV, the map draws its cells, and an organisation's
staff see their organisation's reports only, with no organisation filter."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tests.support.browser import log_in
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


def _received(page: Any) -> int:
    row = page.locator("#summary tr").filter(has_text="Получено обращений")
    return int(re.sub(r"\D", "", row.locator("td").inner_text()))


def test_the_supervisor_filters_the_analytics_and_downloads_a_table(
    browser: Any, demo_server: LiveServer
) -> None:
    url = demo_server.url
    errors: list[str] = []
    context, page = log_in(browser, url, "supervisor@demo.veche")
    try:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url + "/office/reports/analytics")
        assert page.locator("h1").inner_text() == "Обращения: аналитика"
        everything = _received(page)
        assert everything > 0
        # The map draws one square per cell the server sent (no tiles: no network here).
        page.locator("#cells-map path.leaflet-interactive").first.wait_for()
        assert page.locator("#cells-map path.leaflet-interactive").count() > 0

        district = page.locator("select[name=district]")
        code = district.locator("option").nth(1).get_attribute("value")
        assert code
        district.select_option(code)
        page.get_by_role("button", name="Показать").click()
        page.wait_for_url("**district=*")
        assert parse_qs(urlparse(page.url).query)["district"] == [code]
        assert page.locator("select[name=district]").input_value() == code  # kept
        narrowed = _received(page)
        assert 0 <= narrowed < everything

        # The district's table as CSV, with the filter the page shows.
        link = page.get_by_role("link", name="Скачать CSV").first
        assert f"district={code}" in (link.get_attribute("href") or "")
        with page.expect_download() as caught:
            link.click()
        text = Path(caught.value.path()).read_text("utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) >= 2 and rows[0]
    finally:
        context.close()
    assert errors == []


def test_an_organisation_sees_its_own_reports_only(browser: Any, demo_server: LiveServer) -> None:
    url = demo_server.url
    context, page = log_in(browser, url, "roads@demo.veche")
    try:
        page.goto(url + "/office/reports/analytics")
        page.get_by_text("Вы видите обращения только своей организации.").wait_for()
        assert page.locator("select[name=organisation]").count() == 0
        assert _received(page) > 0
    finally:
        context.close()
