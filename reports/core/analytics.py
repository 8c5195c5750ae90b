"""What the management-centre analytics count, as pure rules (docs/protocol.md §16.10).

A report contributes to the aggregates by its *facts*: the local day it was received (in
the municipality's time zone, ``LocalDays``), its
category, district and the organisation that holds it now, its 0.01° cell, the seconds
from receipt to its first response and to its first answer, whether that answer came
within the deadline, whether it was ever reopened, and its ratings. The aggregates are
a function of these facts alone, so a step that changes a report (a reassignment moves
it to another organisation, a rating reopens it) is accounted for by subtracting the
report's facts before the step and adding them after it.

Durations are also counted in coarse buckets (``BUCKET_EDGES``), so that an exact
nearest-rank percentile needs only the raw values of one bucket: the bucket that holds
the rank is found from the counts, then the value is read at its offset within it.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kernel.markers import N_

DAY = 86_400
HOUR = 3_600
EPOCH = date(1970, 1, 1)

BUCKET_EDGES: tuple[int, ...] = (
    HOUR,
    4 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    3 * DAY,
    5 * DAY,
    7 * DAY,
    10 * DAY,
    14 * DAY,
    21 * DAY,
    30 * DAY,
)
"""Bucket ``i`` holds durations in ``[BUCKET_EDGES[i-1], BUCKET_EDGES[i])``; the first
starts at 0, the last (``i = len(BUCKET_EDGES)``) has no end."""
BUCKETS = len(BUCKET_EDGES) + 1

COUNTERS: tuple[str, ...] = (
    "received",
    "responded",
    "answered",
    "in_time",
    "reopened",
    "ratings",
    "rating_sum",
    *(f"r{i}" for i in range(BUCKETS)),
    *(f"a{i}" for i in range(BUCKETS)),
)
"""The daily aggregate's counters: ``r*`` count times to first response by bucket,
``a*`` times to the first answer."""

PERIODS = ("day", "week", "month")


def bucket(seconds: int) -> int:
    return bisect.bisect_right(BUCKET_EDGES, seconds)


def bucket_range(index: int) -> tuple[int, int | None]:
    """``[low, high)`` of a bucket; ``high`` is ``None`` for the last."""
    low = 0 if index == 0 else BUCKET_EDGES[index - 1]
    high = BUCKET_EDGES[index] if index < len(BUCKET_EDGES) else None
    return low, high


class LocalDays:
    """The calendar days of the municipality's time zone (the setting ``time_zone``),
    numbered from 1970-01-01 as dates, whatever the zone.

    A local day starts at the first moment its wall clock reads midnight or later
    (``start``): across a daylight-saving change a day lasts 23 or 25 hours, and where a
    zone skips midnight its day starts when the clock jumps. ``day`` is the last day that
    has started, so every moment has exactly one day and the days of moments never go
    backwards; this is the local date everywhere except inside an hour repeated across
    midnight, which belongs to the new day.
    """

    def __init__(self, zone: str) -> None:
        self.zone = zone
        self._tz = ZoneInfo(zone)
        self._starts: dict[int, int] = {}

    def start(self, day: int) -> int:
        """The Unix time at which the local day ``day`` begins."""
        found = self._starts.get(day)
        if found is None:
            midnight = datetime.combine(day_date(day), time(0), tzinfo=self._tz)
            # fold=0: an ambiguous midnight is its first occurrence; a skipped one maps
            # to the moment of the jump.
            found = int(midnight.timestamp())
            if len(self._starts) > 100_000:
                self._starts.clear()
            self._starts[day] = found
        return found

    def day(self, at: int) -> int:
        """The local day of a Unix time. Offsets are under a day, so it is the UTC day
        or one of its neighbours."""
        utc = at // DAY
        if self.start(utc + 1) <= at:
            return utc + 1
        if self.start(utc) <= at:
            return utc
        return utc - 1


UTC_DAYS = LocalDays("UTC")


def day_of(at: int, days: LocalDays = UTC_DAYS) -> int:
    """The local day (``days``; UTC when not given) of a Unix time, counted from
    1970-01-01."""
    return days.day(at)


def day_date(day: int) -> date:
    return EPOCH + timedelta(days=day)


def date_day(value: date) -> int:
    return (value - EPOCH).days


def month_of(day: int) -> int:
    """The first day of the day's calendar month (a day number)."""
    value = day_date(day)
    return date_day(value.replace(day=1))


def next_month(month: int) -> int:
    value = day_date(month)
    if value.month == 12:
        return date_day(value.replace(year=value.year + 1, month=1, day=1))
    return date_day(value.replace(month=value.month + 1, day=1))


def week_of(day: int) -> int:
    """The Monday that starts the day's ISO week (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


def period_label(day: int, by: str) -> str:
    """The label of the period (``by``: day, week or month) that ``day`` falls in."""
    if by == "month":
        return day_date(day).strftime("%Y-%m")
    if by == "week":
        monday = day_date(week_of(day))
        year, week, _ = monday.isocalendar()
        return f"{year}-W{week:02d}"
    return day_date(day).isoformat()


def period_start(day: int, by: str) -> int:
    if by == "month":
        return month_of(day)
    if by == "week":
        return week_of(day)
    return day


@dataclass(frozen=True)
class Facts:
    """What one report contributes to the aggregates."""

    day: int
    category: str
    district: str
    organisation: str
    lat_e2: int
    lon_e2: int
    first_response_s: int | None
    first_answer_s: int | None
    answered_in_time: bool | None
    reopened: bool
    ratings: int
    rating_sum: int

    def key(self) -> tuple[int, str, str, str]:
        return self.day, self.category, self.district, self.organisation

    def cell_key(self) -> tuple[int, str, str, str, int, int]:
        return (
            month_of(self.day),
            self.category,
            self.district,
            self.organisation,
            self.lat_e2,
            self.lon_e2,
        )

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(COUNTERS, 0)
        counts["received"] = 1
        if self.first_response_s is not None:
            counts["responded"] = 1
            counts[f"r{bucket(self.first_response_s)}"] = 1
        if self.first_answer_s is not None:
            counts["answered"] = 1
            counts[f"a{bucket(self.first_answer_s)}"] = 1
            counts["in_time"] = 1 if self.answered_in_time else 0
            counts["reopened"] = 1 if self.reopened else 0
        counts["ratings"] = self.ratings
        counts["rating_sum"] = self.rating_sum
        return counts


def rank(count: int, percent: int) -> int:
    """The nearest rank of the ``percent``-th percentile among ``count`` values:
    ``ceil(percent · count / 100)``, at least 1 (as ``reports.core.stats``)."""
    return max(1, -(-percent * count // 100))


def locate(bucket_counts: Sequence[int], wanted: int) -> tuple[int, int]:
    """The bucket that holds the value of rank ``wanted`` (1-based) and its offset
    (0-based) inside the bucket."""
    before = 0
    for index, count in enumerate(bucket_counts):
        if before + count >= wanted:
            return index, wanted - before - 1
        before += count
    raise ValueError("the rank is beyond the counted values")


class FilterRefused(ValueError):
    """A filter of the analytics page that cannot be read; ``message`` is a sentence
    for the reader (a catalog message id)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Filters:
    """The analytics page's filters, as they are kept in its URL."""

    start: date | None = None
    end: date | None = None  # inclusive
    category: str | None = None
    district: str | None = None
    organisation: str | None = None
    by: str = "week"

    def start_day(self) -> int | None:
        return None if self.start is None else date_day(self.start)

    def end_day(self) -> int | None:
        return None if self.end is None else date_day(self.end)

    def query(self) -> dict[str, str]:
        """The filters as URL query parameters (only those set)."""
        out = {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "category": self.category or "",
            "district": self.district or "",
            "organisation": self.organisation or "",
            "by": self.by,
        }
        return {k: v for k, v in out.items() if v}


def _date(params: Mapping[str, str], name: str) -> date | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FilterRefused(
            name, N_("Write the date as year-month-day, for example 2026-11-30.")
        ) from None


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Read the filters from the page's query; ``FilterRefused`` names what is wrong."""
    start, end = _date(params, "from"), _date(params, "to")
    if start is not None and end is not None and end < start:
        raise FilterRefused("to", N_("The end of the period comes before its start."))
    by = params.get("by", "").strip() or "week"
    if by not in PERIODS:
        raise FilterRefused("by", N_("Group by day, week or month."))
    codes: dict[str, str | None] = {}
    for name in ("category", "district", "organisation"):
        value = params.get(name, "").strip()
        if len(value) > 64:
            raise FilterRefused(name, N_("There is no such choice."))
        codes[name] = value or None
    return Filters(start, end, codes["category"], codes["district"], codes["organisation"], by)
