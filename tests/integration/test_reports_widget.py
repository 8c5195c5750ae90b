"""The widget a municipal site includes with one script tag: a script that points at this
deployment's public address and opens the report form in the category it names."""

from __future__ import annotations

from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.proposals import Actor
from tests.support.reports import setup_reports

pytestmark = PAGES_ON_SQLITE


def test_the_widget_script_opens_the_form_in_its_category(
    client: Client, app: Litestar, settings: Settings
) -> None:
    people: dict[str, Actor] = setup_reports(client, app, settings)
    script = client.get("/reports/widget.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert f'const base = "{settings.public_url}";' in script.text
    assert "Сообщить о проблеме" in script.text and 'url.searchParams.set("category"' in script.text
    resident = people["resident"].use()
    form = resident.get("/reports/new?category=potholes", headers=HTML)
    assert form.status_code == 200
    assert '<option value="potholes" selected>' in form.text
    unknown = resident.get("/reports/new?category=<script>", headers=HTML)
    assert (
        unknown.status_code == 200
        and " selected>" not in unknown.text.split('id="category"')[1].split("</select>")[0]
    )
