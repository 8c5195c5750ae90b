"""The reports' analytics count the municipality's local days (docs/protocol.md §16.10),
through the real HTTP app: a report received late in the evening or just after midnight
in the setting ``time_zone`` counts on that local day, in the tables, the filters, the
weeks and months, the map, the percentiles and the CSV; across daylight-saving changes;
and the tables are recounted when the setting changes."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import msgspec
import pytest
from litestar import Litestar
from sqlalchemy import select

from kernel.settings import Settings
from reports.core.analytics import LocalDays
from reports.services import aggregates
from reports.services.models import Report
from tests.support.accounts import Client
from tests.support.pages import HTML
from tests.support.proposals import Actor
from tests.support.reports import answer, report, setup_reports
from veche.setup import initialize

PAGE = "/office/reports/analytics"

SQLITE = pytest.mark.parametrize("engine_name", ["sqlite"])


@pytest.fixture(name="people")
def fx_people(client: Client, app: Litestar, settings: Settings) -> dict[str, Actor]:
    return setup_reports(client, app, settings)


def _at(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _receive(app: Litestar, people: dict[str, Actor], moment: str) -> str:
    """A report received at ``moment`` (an ISO time with its offset)."""
    app.state.reports.clock = lambda: float(_at(moment))
    return str(report(people["resident"])["id"])


def _csv(actor: Actor, table: str, **params: str) -> list[list[str]]:
    response = actor.use().get(f"{PAGE}/csv/{table}", params=params)
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


def _series(actor: Actor, **params: str) -> list[list[str]]:
    return [row[:2] for row in _csv(actor, "series", **params)[1:]]


def _kept_is_recounted(app: Litestar, zone: str) -> None:
    with app.state.read_sessions() as db:
        kept = aggregates.stored(db)
        again = aggregates.recompute(db.scalars(select(Report)).all(), LocalDays(zone))
        assert aggregates.kept_zone(db) == zone
    assert kept == again


@SQLITE
def test_moscow_evenings_and_nights_count_on_moscow_days(
    people: dict[str, Actor], app: Litestar
) -> None:
    assert app.state.settings.time_zone == "Europe/Moscow"
    supervisor = people["supervisor"]
    feb = _receive(app, people, "2027-02-28T23:30:00+03:00")  # 20:30 UTC, 28 February
    late = _receive(app, people, "2027-03-01T23:30:00+03:00")  # 20:30 UTC, 1 March
    night = _receive(app, people, "2027-03-02T01:00:00+03:00")  # 22:00 UTC, 1 March
    # Answered one and five hours after receipt: the percentiles of one day tell them.
    app.state.reports.clock = lambda: float(_at("2027-03-02T00:30:00+03:00"))
    assert answer(people["roads"], late).status_code == 200
    app.state.reports.clock = lambda: float(_at("2027-03-02T06:00:00+03:00"))
    assert answer(people["roads"], night).status_code == 200
    _kept_is_recounted(app, "Europe/Moscow")

    assert _series(supervisor, by="day", **{"from": "2027-02-28", "to": "2027-03-02"}) == [
        ["2027-02-28", "1"],
        ["2027-03-01", "1"],
        ["2027-03-02", "1"],
    ]
    # "To" is inclusive; one local day is exactly its own reports.
    one = _csv(supervisor, "districts", **{"from": "2027-03-02", "to": "2027-03-02"})
    assert [row[1:3] for row in one[1:]] == [["1", "1"]]
    assert _series(supervisor, by="month", **{"from": "2027-02-01", "to": "2027-03-31"}) == [
        ["2027-02", "1"],
        ["2027-03", "2"],
    ]
    # 28 February 2027 is a Sunday: its evening is the week before 1 March's.
    assert _series(supervisor, by="week", **{"from": "2027-02-22", "to": "2027-03-07"}) == [
        ["2027-W08", "1"],
        ["2027-W09", "2"],
    ]
    # The map: a day at the edge of the period from the rows, whole months from its table.
    for start, end, count in (
        ("2027-03-01", "2027-03-01", "1"),
        ("2027-03-02", "2027-03-02", "1"),
        ("2027-03-01", "2027-03-31", "2"),
        ("2027-02-28", "2027-03-31", "3"),
        ("2027-02-01", "2027-02-28", "1"),
    ):
        cells = _csv(supervisor, "cells", **{"from": start, "to": end})
        assert [row[2] for row in cells[1:]] == [count], (start, end)
    # The percentiles read the rows of the same local days as the counts.
    with app.state.read_sessions() as db:
        from reports.core.analytics import parse_filters
        from reports.services.analytics import ReportAnalytics

        reader = ReportAnalytics(app.state.reports.config, app.state.reports.days)
        first = reader.figures(db, parse_filters({"from": "2027-03-01", "to": "2027-03-01"}))
        second = reader.figures(db, parse_filters({"from": "2027-03-02", "to": "2027-03-02"}))
    assert first.summary.answer_median == 3600
    assert second.summary.answer_median == 5 * 3600
    assert feb and first.summary.counts.received == second.summary.counts.received == 1


@pytest.fixture(name="settings")
def fx_berlin(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Berlin, which changes its clocks, for the tests that ask for it."""
    if "berlin" not in request.node.name:
        return settings
    return msgspec.structs.replace(settings, time_zone="Europe/Berlin")


@SQLITE
def test_berlin_days_across_daylight_saving(
    people: dict[str, Actor], app: Litestar, client: Client
) -> None:
    assert app.state.reports.days.zone == "Europe/Berlin"
    supervisor = people["supervisor"]
    moments = [
        "2027-03-27T23:30:00+01:00",  # Saturday, winter time
        "2027-03-28T01:59:00+01:00",  # just before the clocks go forward
        "2027-03-28T03:00:00+02:00",  # just after: the same, 23-hour day
        "2027-03-28T23:30:00+02:00",  # 21:30 UTC: still Sunday 28 March
        "2027-03-29T00:30:00+02:00",  # 22:30 UTC on the 28th: Monday 29 March
        "2027-10-31T02:30:00+02:00",  # the repeated hour, first pass
        "2027-10-31T02:30:00+01:00",  # and second pass: the same, 25-hour day
        "2027-10-31T23:30:00+01:00",  # 22:30 UTC: still 31 October
    ]
    for moment in moments:
        _receive(app, people, moment)
    _kept_is_recounted(app, "Europe/Berlin")
    assert _series(supervisor, by="day", **{"from": "2027-03-27", "to": "2027-03-29"}) == [
        ["2027-03-27", "1"],
        ["2027-03-28", "3"],
        ["2027-03-29", "1"],
    ]
    assert _series(supervisor, by="week", **{"from": "2027-03-22", "to": "2027-04-04"}) == [
        ["2027-W12", "4"],
        ["2027-W13", "1"],
    ]
    assert _series(supervisor, by="day", **{"from": "2027-10-31", "to": "2027-11-01"}) == [
        ["2027-10-31", "3"],
        ["2027-11-01", "0"],
    ]
    cells = _csv(supervisor, "cells", **{"from": "2027-10-31", "to": "2027-10-31"})
    assert [row[2] for row in cells[1:]] == ["3"]
    for lang, words in (
        ("en", "time zone (Berlin, UTC+"),  # +1 or +2, as the clocks are today
        ("ru", "в часовом поясе муниципалитета (Берлин, UTC+"),
    ):
        page = supervisor.use().get(PAGE, headers={**HTML, "Accept-Language": lang})
        assert page.status_code == 200 and words in page.text


def test_the_tables_are_recounted_when_the_time_zone_changes(
    people: dict[str, Actor], app: Litestar, settings: Settings
) -> None:
    # 22:30 UTC in January: 1:30 on the 16th in Moscow, 23:30 on the 15th in Berlin.
    _receive(app, people, "2027-01-15T22:30:00+00:00")
    _kept_is_recounted(app, "Europe/Moscow")
    with app.state.read_sessions() as db:
        assert [k[0] for k in aggregates.stored(db)[0]] == [
            LocalDays("UTC").day(_at("2027-01-16T00:00:00+00:00"))
        ]
    initialize(msgspec.structs.replace(settings, time_zone="Europe/Berlin"), app.state.engine)
    _kept_is_recounted(app, "Europe/Berlin")
    with app.state.read_sessions() as db:
        assert [k[0] for k in aggregates.stored(db)[0]] == [
            LocalDays("UTC").day(_at("2027-01-15T00:00:00+00:00"))
        ]
    # Unchanged, nothing is recounted.
    with app.state.sessions() as db, db.begin():
        assert aggregates.ensure_zone(db, "Europe/Berlin") is None
