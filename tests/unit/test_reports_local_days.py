"""The local days the reports' analytics count by (docs/protocol.md §16.10): a report
belongs to the calendar day of the municipality's time zone, daylight-saving changes
included, and every moment has exactly one day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.core.analytics import (
    LocalDays,
    date_day,
    day_date,
    month_of,
    period_label,
    period_start,
)


def _at(text: str) -> int:
    """A Unix time from an ISO moment with its offset."""
    return int(datetime.fromisoformat(text).timestamp())


def _day(days: LocalDays, text: str) -> date:
    return day_date(days.day(_at(text)))


def test_a_moscow_evening_and_night_fall_on_moscow_days() -> None:
    moscow = LocalDays("Europe/Moscow")
    # 23:30 in Moscow on 1 March is 20:30 UTC: 1 March.
    assert _day(moscow, "2026-03-01T20:30:00+00:00") == date(2026, 3, 1)
    # 01:00 in Moscow on 2 March is 22:00 UTC on 1 March: 2 March.
    assert _day(moscow, "2026-03-01T22:00:00+00:00") == date(2026, 3, 2)
    # The boundary itself: Moscow's midnight is 21:00 UTC the day before.
    start = moscow.start(date_day(date(2026, 3, 2)))
    assert start == _at("2026-03-01T21:00:00+00:00")
    assert moscow.day(start) == date_day(date(2026, 3, 2))
    assert moscow.day(start - 1) == date_day(date(2026, 3, 1))
    # 00:30 on 1 March in Moscow is still February in UTC: the month is March.
    night = moscow.day(_at("2026-02-28T21:30:00+00:00"))
    assert day_date(month_of(night)) == date(2026, 3, 1)
    assert period_label(night, "month") == "2026-03"
    # A Sunday 23:30 in Moscow belongs to that week, a Monday 00:30 to the next.
    sunday = moscow.day(_at("2026-03-01T23:30:00+03:00"))
    monday = moscow.day(_at("2026-03-02T00:30:00+03:00"))
    assert period_label(sunday, "week") == "2026-W09"
    assert period_label(monday, "week") == "2026-W10"
    assert period_start(monday, "week") == monday


def test_berlin_days_are_23_and_25_hours_long_across_daylight_saving() -> None:
    berlin = LocalDays("Europe/Berlin")
    spring = date_day(date(2026, 3, 29))  # 02:00 CET becomes 03:00 CEST
    autumn = date_day(date(2026, 10, 25))  # 03:00 CEST becomes 02:00 CET
    assert berlin.start(spring + 1) - berlin.start(spring) == 23 * 3600
    assert berlin.start(autumn + 1) - berlin.start(autumn) == 25 * 3600
    assert berlin.start(spring) == _at("2026-03-29T00:00:00+01:00")
    assert berlin.start(spring + 1) == _at("2026-03-30T00:00:00+02:00")
    # Either side of the spring jump, and the last moment of the short day.
    assert _day(berlin, "2026-03-29T01:59:59+01:00") == date(2026, 3, 29)
    assert _day(berlin, "2026-03-29T03:00:00+02:00") == date(2026, 3, 29)
    assert _day(berlin, "2026-03-29T23:59:59+02:00") == date(2026, 3, 29)
    assert _day(berlin, "2026-03-30T00:00:00+02:00") == date(2026, 3, 30)
    # Both passes of the repeated autumn hour, and that long day's last moment.
    assert _day(berlin, "2026-10-25T02:30:00+02:00") == date(2026, 10, 25)
    assert _day(berlin, "2026-10-25T02:30:00+01:00") == date(2026, 10, 25)
    assert _day(berlin, "2026-10-25T23:59:59+01:00") == date(2026, 10, 25)
    assert _day(berlin, "2026-10-26T00:00:00+01:00") == date(2026, 10, 26)
    # 23:30 in Berlin is 22:30 UTC in winter and 21:30 UTC in summer: the same day.
    assert _day(berlin, "2026-01-15T22:30:00+00:00") == date(2026, 1, 15)
    assert _day(berlin, "2026-07-15T21:30:00+00:00") == date(2026, 7, 15)
    assert _day(berlin, "2026-07-15T22:30:00+00:00") == date(2026, 7, 16)


def test_a_zone_that_skips_midnight_starts_its_day_at_the_jump() -> None:
    # Santiago moved its clocks from 00:00 to 01:00 on 6 September 2026.
    santiago = LocalDays("America/Santiago")
    day = date_day(date(2026, 9, 6))
    start = santiago.start(day)
    assert datetime.fromtimestamp(start, ZoneInfo("America/Santiago")).hour == 1
    assert santiago.day(start) == day and santiago.day(start - 1) == day - 1
    assert santiago.start(day + 1) - start == 23 * 3600


def test_utc_days_are_whole_multiples_of_a_day() -> None:
    utc = LocalDays("UTC")
    assert utc.start(20_000) == 20_000 * 86_400
    assert utc.day(20_000 * 86_400 - 1) == 19_999


ZONES = [
    "Europe/Moscow",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Asia/Beirut",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "UTC",
]


@pytest.mark.parametrize("zone", ZONES)
@given(at=st.integers(_at("1995-01-01T00:00:00+00:00"), _at("2040-01-01T00:00:00+00:00")))
def test_every_moment_has_the_local_date_and_lies_within_its_day(zone: str, at: int) -> None:
    days = LocalDays(zone)
    day = days.day(at)
    assert days.start(day) <= at < days.start(day + 1)
    assert day_date(day) == datetime.fromtimestamp(at, UTC).astimezone(ZoneInfo(zone)).date()


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Europe/Moscow", "America/Santiago"])
@given(day=st.integers(date_day(date(1995, 1, 1)), date_day(date(2040, 1, 1))))
def test_days_follow_one_another_without_gaps(zone: str, day: int) -> None:
    days = LocalDays(zone)
    start, following = days.start(day), days.start(day + 1)
    assert following - start in (23 * 3600, 24 * 3600, 25 * 3600)
    assert days.day(start) == day and days.day(following - 1) == day
