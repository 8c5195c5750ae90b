"""The management-centre analytics of reports (docs/protocol.md §16.10) through the real
HTTP app and services: the aggregates kept by every step agree with a recomputation
from the rows after any sequence of steps; the unfiltered figures are the log's
statistics; filters, CSV, access and refusals of bad filters in the reader's language.

Access, as decided: supervisors and administrators see every organisation; an
organisation's staff see their own organisation only (the filter is held to it; asking
for another is a 403); residents are refused (403) and visitors asked to log in (401).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from sqlalchemy import select, text

from audit.services.models import LogEntry
from kernel.accounts.models import User
from kernel.errors import DomainError
from kernel.settings import Settings
from reports.core.analytics import DAY, Filters
from reports.core.stats import statistics as log_statistics
from reports.core.verify import report_entries
from reports.services import aggregates
from reports.services.analytics import ReportAnalytics
from reports.services.models import Report
from tests.support.accounts import Client
from tests.support.images import png
from tests.support.pages import HTML
from tests.support.proposals import Actor
from tests.support.reports import answer, report, setup_reports

PAGE = "/office/reports/analytics"
START = 1_795_000_000  # 2026-11-18, a Wednesday


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


def _kept_and_recomputed(app: Litestar) -> tuple[Any, Any]:
    with app.state.read_sessions() as db:
        kept = aggregates.stored(db)
        again = aggregates.recompute(db.scalars(select(Report)).all(), app.state.reports.days)
    return kept, again


def _log_figures(app: Litestar) -> dict[str, object]:
    with app.state.read_sessions() as db:
        lines = [bytes(d) for d in db.scalars(select(LogEntry.data).order_by(LogEntry.seq))]
    return log_statistics(report_entries(lines)).to_json()


def _analytics_as_statistics(app: Litestar, filters: Filters | None = None) -> dict[str, object]:
    with app.state.read_sessions() as db:
        figures = ReportAnalytics(app.state.reports.config, app.state.reports.days).figures(
            db, filters or Filters()
        )
    s, c = figures.summary, figures.summary.counts

    def frac(value: Any) -> str | None:
        return None if value is None else f"{value.numerator}/{value.denominator}"

    return {
        "reports": c.received,
        "answered": c.answered,
        "first_response_median_s": s.first_response_median,
        "first_response_p90_s": s.first_response_p90,
        "answer_median_s": s.answer_median,
        "answer_p90_s": s.answer_p90,
        "within_deadline": frac(c.within_deadline),
        "average_rating": frac(c.average_rating),
        "ratings": c.ratings,
        "reopen_rate": frac(c.reopen_rate),
    }


OPS = st.lists(
    st.tuples(
        st.sampled_from(["new", "take", "answer", "rate", "reassign", "send_back", "close"]),
        st.integers(0, 7),  # which report
        st.integers(1, 5),  # a rating, or a category/place choice
        st.integers(0, 40 * DAY),  # how much time passes first
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.parametrize("engine_name", ["sqlite"])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_the_kept_aggregates_equal_a_recomputation_after_any_steps(
    people: dict[str, Actor], app: Litestar, client: Client, ops: list[tuple[str, int, int, int]]
) -> None:
    """Receipts, work, answers, good and bad ratings, reassignments, supervisors sending
    back and closing unrated answers, at random times: the kept tables always equal the
    recomputation from the rows (by the local days of the setting time_zone), and the
    unfiltered figures equal the log's."""
    assert app.state.reports.days.zone == app.state.settings.time_zone == "Europe/Moscow"
    service = app.state.reports
    photos = app.state.report_photos
    with app.state.read_sessions() as db:
        users = {u.email.split("@")[0]: u for u in db.scalars(select(User)).all()}
        db.expunge_all()
    clock = [START + len(ops) * 41 * DAY]  # later than any earlier example's steps
    with app.state.read_sessions() as db:
        latest = db.scalar(select(Report.updated_at).order_by(Report.updated_at.desc()))  # type: ignore[attr-defined]
    clock[0] = max(clock[0], (latest or 0) + 1)
    service.clock = lambda: float(clock[0])
    ids: list[str] = []
    places = [(55_750_000, 37_620_000), (55_745_000, 37_605_000), (55_790_000, 37_630_000)]
    for op, which, choice, wait in ops:
        clock[0] += wait
        rid = ids[which % len(ids)] if ids else None
        try:
            if op == "new" or rid is None:
                from reports.core.schemas import ReportCreate

                lat, lon = places[choice % len(places)]
                category = "waste" if choice % 2 else "potholes"
                ids.append(
                    service.create(
                        users["resident"],
                        ReportCreate(category=category, description="x", lat_e6=lat, lon_e6=lon),
                    )
                )
            elif op == "take":
                service.take(users["supervisor"], rid)
            elif op == "answer":
                with app.state.sessions() as db, db.begin():
                    photos.add(db, users["supervisor"], rid, png(20 + choice, 10))
                service.answer(users["supervisor"], rid, "Done.")
            elif op == "rate":
                service.rate(users["resident"], rid, choice, "Still broken")
            elif op == "reassign":
                target = "waste-co" if choice % 2 else "roads-dept"
                service.reassign(users["supervisor"], rid, target)
            elif op == "send_back":
                service.send_back(users["supervisor"], rid)
            else:
                service.close_unrated()
        except DomainError:
            pass
    kept, again = _kept_and_recomputed(app)
    assert kept == again
    figures = _log_figures(app)
    assert _analytics_as_statistics(app) == figures
    # The served statistics, replayed from where the previous example left the log.
    assert client.get("/api/v1/reports/statistics").json() == figures


def _csv(actor: Actor, table: str, **params: str) -> list[list[str]]:
    response = actor.use().get(f"{PAGE}/csv/{table}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def _rate(actor: Actor, rid: str, rating: int) -> None:
    body = {"rating": rating, "comment": "" if rating >= 3 else "Not fixed"}
    assert actor.call("POST", f"/api/v1/reports/{rid}/rate", body).status_code == 200


@pytest.fixture(name="month")
def fx_month(people: dict[str, Actor]) -> dict[str, Actor]:
    """Three pothole reports (one answered and rated 4, one answered and rated 2, one
    reassigned to the waste company) and two waste reports (one answered)."""
    potholes = [str(report(people["resident"])["id"]) for _ in range(3)]
    waste = [str(report(people["resident"], "waste")["id"]) for _ in range(2)]
    assert answer(people["roads"], potholes[0]).status_code == 200
    _rate(people["resident"], potholes[0], 4)
    assert answer(people["roads"], potholes[1]).status_code == 200
    _rate(people["resident"], potholes[1], 2)
    body = {"organisation": "waste-co"}
    url = f"/api/v1/reports/{potholes[2]}/reassign"
    assert people["supervisor"].call("POST", url, body).status_code == 200
    assert answer(people["waste"], waste[0]).status_code == 200
    return people


def test_the_page_shows_the_figures_in_both_languages(
    month: dict[str, Actor], app: Litestar, client: Client
) -> None:
    supervisor = month["supervisor"].use()
    english = supervisor.get(PAGE, headers={**HTML, "Accept-Language": "en"})
    assert english.status_code == 200, english.text
    assert "Reports: analytics" in english.text and "By organisation" in english.text
    assert 'id="cells-map"' in english.text and "<svg" in english.text
    assert "style=" not in english.text.split("<main", 1)[-1]  # the CSP refuses inline styles
    russian = supervisor.get(PAGE, headers={**HTML, "Accept-Language": "ru"})
    assert russian.status_code == 200
    assert "Обращения: аналитика" in russian.text and "По организациям" in russian.text
    # Unfiltered, the analytics are the log's own statistics.
    assert _analytics_as_statistics(app) == client.get("/api/v1/reports/statistics").json()


def test_filters_narrow_every_table_and_the_csv_follows_the_url(
    month: dict[str, Actor], settings: Settings
) -> None:
    supervisor = month["supervisor"]
    organisations = _csv(supervisor, "organisations")
    assert organisations[0][:3] == ["Organisation", "Reports", "Answered"]
    counts = {row[0]: row[1:4] for row in organisations[1:]}
    # The reassigned pothole counts under the waste company, which holds it now.
    assert counts == {"Roads department": ["2", "2", "2"], "Waste company": ["3", "1", "1"]}
    waste_only = _csv(supervisor, "categories", category="waste")
    assert [row[:2] for row in waste_only[1:]] == [["Waste", "2"]]
    roads = _csv(supervisor, "categories", category="roads")  # the parent takes its children
    assert [row[:2] for row in roads[1:]] == [["Potholes", "3"]]
    today = datetime.now(UTC).astimezone(ZoneInfo(settings.time_zone)).date()  # a local date
    later = _csv(supervisor, "series", **{"from": str(today.replace(year=today.year + 1))})
    assert later[1:] == []
    by_day = _csv(supervisor, "series", by="day", **{"from": str(today), "to": str(today)})
    assert by_day[0][0] == "Day" and [row[:2] for row in by_day[1:]] == [[str(today), "5"]]
    ratings = {row[0]: row[5:8] for row in _csv(supervisor, "districts")[1:]}
    assert list(ratings.values()) == [["2", "6", "3.00"]]  # (4 + 2) / 2
    cells = _csv(supervisor, "cells", **{"from": str(today), "to": str(today)})
    assert cells[1:] == [["55.75", "37.62", "5"]]
    page = supervisor.use().get(PAGE, params={"category": "waste", "by": "month"})
    assert page.status_code == 200
    assert "/office/reports/analytics/csv/series?category=waste&amp;by=month" in page.text
    assert '<option value="waste" selected>' in page.text


def test_staff_see_their_organisation_only(month: dict[str, Actor]) -> None:
    roads = month["roads"]
    rows = _csv(roads, "organisations")
    assert [row[0] for row in rows[1:]] == ["Roads department"]
    refused = roads.use().get(PAGE, params={"organisation": "waste-co"})
    assert refused.status_code == 403
    assert "their own organisation" in refused.text
    assert roads.use().get(PAGE, params={"organisation": "roads-dept"}).status_code == 200


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_residents_and_visitors_are_refused(month: dict[str, Actor], client: Client) -> None:
    assert month["resident"].use().get(PAGE).status_code == 403
    assert month["resident"].use().get(f"{PAGE}/csv/categories").status_code == 403
    client.cookies.clear()
    assert client.get(PAGE).status_code in (401, 303)
    assert client.get(f"{PAGE}/csv/categories").status_code in (401, 303)


@pytest.mark.parametrize("engine_name", ["sqlite"])
@pytest.mark.parametrize(
    ("params", "english", "russian"),
    [
        ({"from": "2026-13-01"}, "Write the date as year-month-day", "Напишите дату"),
        ({"from": "2026-12-02", "to": "2026-12-01"}, "comes before its start", "раньше"),
        ({"by": "year"}, "Group by day, week or month", "по дням, неделям или месяцам"),
        ({"category": "nope"}, "There is no such category", "Такой категории нет"),
        ({"district": "atlantis"}, "There is no such district", "Такого района нет"),
        ({"organisation": "x"}, "There is no such organisation", "Такой организации нет"),
    ],
)
def test_bad_filters_are_refused_in_the_readers_language(
    people: dict[str, Actor], params: dict[str, str], english: str, russian: str
) -> None:
    supervisor = people["supervisor"].use()
    for lang, sentence in (("en", english), ("ru", russian)):
        headers = {"Accept": "text/html", "Accept-Language": lang}
        response = supervisor.get(PAGE, params=params, headers=headers)
        assert response.status_code == 400, response.text
        assert sentence in response.text
    csv_response = supervisor.get(f"{PAGE}/csv/series", params=params)
    assert csv_response.status_code == 400
    assert supervisor.get(f"{PAGE}/csv/nothing").status_code == 404


def _migration() -> Any:
    import importlib.util

    import veche

    path = Path(veche.__file__).parent / "migrations" / "versions" / "0011_report_analytics.py"
    spec = importlib.util.spec_from_file_location("report_analytics_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_upgrade_counts_the_reports_made_before_it(
    month: dict[str, Actor], app: Litestar
) -> None:
    """Migration 0011 fills each existing report's facts from its steps and its ratings'
    entries, and the aggregates from the rows: the same as the steps kept them."""
    columns = ("first_response_s", "first_answer_s", "answered_in_time", "ratings", "rating_sum")
    with app.state.read_sessions() as db:
        reopened = db.scalar(select(Report.id).where(Report.status == "reopened"))
    assert (
        month["supervisor"].call("POST", f"/api/v1/reports/{reopened}/send-back").status_code == 200
    )
    assert answer(month["roads"], str(reopened)).status_code == 200
    _rate(month["resident"], str(reopened), 5)
    with app.state.read_sessions() as db:
        kept = aggregates.stored(db)
        facts = sorted(
            tuple(getattr(r, c) for c in ("id", *columns)) for r in db.scalars(select(Report))
        )
    assert any(f[4] == 2 for f in facts)  # a report rated twice: 2, then its second rating
    with app.state.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE report SET first_response_s = NULL, first_answer_s = NULL, "
                "answered_in_time = NULL, ratings = 0, rating_sum = 0"
            )
        )
        connection.execute(text("DELETE FROM report_daily"))
        connection.execute(text("DELETE FROM report_cell_month"))
    with app.state.engine.begin() as connection:
        _migration()._backfill(connection, app.state.settings.time_zone)
    with app.state.read_sessions() as db:
        assert aggregates.stored(db) == kept
        again = sorted(
            tuple(getattr(r, c) for c in ("id", *columns)) for r in db.scalars(select(Report))
        )
    assert again == facts
