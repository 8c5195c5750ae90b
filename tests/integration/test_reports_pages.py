"""Report pages in English and Russian: the form with its map, nearby reports offered
before a duplicate, one report with live status, my reports, an organisation's queue
with overdue marks and the supervisor's overdue list."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import Client
from tests.support.images import png
from tests.support.pages import HTML, PAGES_ON_SQLITE
from tests.support.proposals import Actor
from tests.support.reports import answer, report, setup_reports

pytestmark = PAGES_ON_SQLITE


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


def post_form(actor: Actor, url: str, data: dict[str, str], lang: str = "en", **kw: Any) -> Any:
    return actor.use().post(
        url,
        data={**data, "csrf_token": actor.csrf},
        headers={**HTML, "Accept-Language": lang},
        follow_redirects=False,
        **kw,
    )


FORM = {
    "category": "potholes",
    "description": "A pothole",
    "latitude": "55.75",
    "longitude": "37.62",
    "public": "1",
}


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "Report a problem"), ("ru", "Сообщить о проблеме")]
)
def test_the_form_has_a_map_in_both_languages(
    people: dict[str, Actor], lang: str, words: str
) -> None:
    page = people["resident"].use().get("/reports/new", headers={**HTML, "Accept-Language": lang})
    assert page.status_code == 200
    assert words in page.text and 'id="map"' in page.text and "leaflet.js" in page.text
    assert ("Ямы" if lang == "ru" else "Potholes") in page.text


def test_a_report_with_a_photo_from_the_form(people: dict[str, Actor]) -> None:
    sent = post_form(people["resident"], "/reports/new", FORM, files={"file": ("p.png", png(8, 8))})
    assert sent.status_code == 303, sent.text
    url = sent.headers["location"]
    page = people["resident"].use().get(url, headers=HTML)
    assert "A pothole" in page.text and "/api/v1/reports/photos/" in page.text
    assert 'data-report-live="' in page.text


def test_a_point_outside_is_refused_in_russian(people: dict[str, Actor]) -> None:
    sent = post_form(
        people["resident"],
        "/reports/new",
        FORM | {"latitude": "59.93", "longitude": "30.31"},
        "ru",
        files={"file": ("p.png", png(8, 8))},
    )
    assert sent.status_code == 400
    assert "за пределами муниципалитета" in sent.text


def test_a_fake_photo_is_refused_on_the_page(people: dict[str, Actor]) -> None:
    rid = report(people["resident"])["id"]
    sent = post_form(
        people["resident"],
        f"/reports/{rid}/photos",
        {},
        "ru",
        files={"file": ("p.png", b"GIF89a not really")},
    )
    assert sent.status_code == 400
    assert "PNG, JPEG" in sent.text


def test_nearby_reports_are_offered_before_a_duplicate(people: dict[str, Actor]) -> None:
    rid = report(people["resident"])["id"]
    offered = post_form(
        people["neighbour"], "/reports/new", FORM, files={"file": ("p.png", png(8, 8))}
    )
    assert offered.status_code == 200
    assert f"/reports/{rid}/follow" in offered.text and "Me too" in offered.text
    followed = post_form(people["neighbour"], f"/reports/{rid}/follow", {})
    assert followed.status_code == 303
    mine = people["neighbour"].use().get("/reports/mine", headers=HTML)
    assert rid in mine.text


def test_the_queue_marks_overdue_reports_and_the_supervisor_sees_them(
    people: dict[str, Actor], app: Litestar
) -> None:
    rid = report(people["resident"])["id"]
    fresh = people["roads"].use().get("/reports/queue", headers=HTML)
    assert rid in fresh.text and "is-overdue" not in fresh.text
    service = app.state.reports
    clock = service.clock
    service.clock = lambda: clock() + 31 * 86_400
    try:
        late = (
            people["roads"].use().get("/reports/queue", headers={**HTML, "Accept-Language": "ru"})
        )
        overdue = people["supervisor"].use().get("/reports/overdue", headers=HTML)
    finally:
        service.clock = clock
    assert "is-overdue" in late.text and "просрочено" in late.text
    assert rid in overdue.text
    assert people["waste"].use().get("/reports/queue", headers=HTML).text.count(rid) == 0
    assert people["resident"].use().get("/reports/overdue", headers=HTML).status_code == 403


def test_staff_answer_and_the_reporter_rates_from_the_pages(people: dict[str, Actor]) -> None:
    rid = report(people["resident"])["id"]
    page = people["roads"].use().get(f"/reports/{rid}", headers=HTML)
    assert "Take in work" in page.text
    assert post_form(people["roads"], f"/reports/{rid}/take", {}).status_code == 303
    assert answer(people["roads"], rid).status_code == 200
    low = post_form(
        people["resident"], f"/reports/{rid}/rate", {"rating": "2", "comment": ""}, "ru"
    )
    assert low.status_code == 400 and "комментария" in low.text
    rated = post_form(
        people["resident"], f"/reports/{rid}/rate", {"rating": "2", "comment": "Still"}
    )
    assert rated.status_code == 303
    waste_page = people["waste"].use().get(f"/reports/{rid}", headers=HTML)
    assert "Take in work" not in waste_page.text and "Send back to work" not in waste_page.text
    sup = people["supervisor"].use().get(f"/reports/{rid}", headers=HTML)
    assert "Send back to work" in sup.text
