"""The management-centre analytics of reports (docs/protocol.md §16.10), read from the
aggregates that every step keeps (``reports.services.aggregates``).

Reports are counted by the local day they were received, in the municipality's time zone
(the setting ``time_zone``, ``reports.core.analytics.LocalDays``; a report answered in
December for a November receipt counts in November), under the category, district and
organisation that hold them now. Counts, shares and the average rating are sums over
``report_daily``; the median and 90th percentile of the times to first response and to
answer are exact nearest-rank values, found by the bucket counts and read at their
offset inside one bucket through an index (``reports.core.analytics``). The map counts
0.01° cells from ``report_cell_month`` for the whole local months of the period, and from
the report rows for the days at its edges. The filters' dates are local dates, the end
inclusive; a local day's reports are those received from the moment it starts to the
moment the next one starts (``LocalDays.start``), 23 or 25 hours across a
daylight-saving change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.orm import Session

from kernel.accounts.models import District
from kernel.errors import InvalidInput
from kernel.markers import N_
from reports.core.analytics import (
    BUCKETS,
    COUNTERS,
    Filters,
    LocalDays,
    bucket_range,
    locate,
    month_of,
    next_month,
    period_label,
    period_start,
    rank,
    week_of,
)
from reports.core.categories import CategoryTree
from reports.core.location import GRID_E6
from reports.services.aggregates import CELLS, DAILY
from reports.services.config import ReportConfig
from reports.services.models import Report

REPORTS: Table = Report.__table__  # type: ignore[attr-defined]
SHOWN = ("received", "answered", "in_time", "reopened", "ratings", "rating_sum")


@dataclass(frozen=True)
class Counts:
    received: int = 0
    answered: int = 0
    in_time: int = 0
    reopened: int = 0
    ratings: int = 0
    rating_sum: int = 0

    @property
    def within_deadline(self) -> Fraction | None:
        return Fraction(self.in_time, self.answered) if self.answered else None

    @property
    def average_rating(self) -> Fraction | None:
        return Fraction(self.rating_sum, self.ratings) if self.ratings else None

    @property
    def reopen_rate(self) -> Fraction | None:
        return Fraction(self.reopened, self.answered) if self.answered else None


@dataclass(frozen=True)
class Summary:
    counts: Counts
    responded: int
    first_response_median: int | None
    first_response_p90: int | None
    answer_median: int | None
    answer_p90: int | None


@dataclass(frozen=True)
class Analytics:
    filters: Filters
    summary: Summary
    series: list[tuple[str, Counts]]
    categories: list[tuple[str, Counts]]
    districts: list[tuple[str, Counts]]
    organisations: list[tuple[str, Counts]]
    cells: list[tuple[int, int, int]]  # (lat_e2, lon_e2, reports), most first


def _counts(row: Any) -> Counts:
    return Counts(*(int(row[n] or 0) for n in SHOWN))


class ReportAnalytics:
    def __init__(self, config: ReportConfig | None = None, days: LocalDays | None = None) -> None:
        self.config = config or ReportConfig()
        self.days = days or LocalDays("UTC")

    def check(self, db: Session, filters: Filters) -> CategoryTree:
        """Refuse a filter that names nothing known, with a sentence (400)."""
        tree = self.config.tree(db)
        if filters.category is not None and filters.category not in tree.categories:
            raise InvalidInput(
                N_("There is no such category."), code="invalid_category", field="category"
            )
        if filters.district is not None and db.get(District, filters.district) is None:
            raise InvalidInput(
                N_("There is no such district."), code="invalid_district", field="district"
            )
        if filters.organisation is not None and filters.organisation not in tree.organisations:
            raise InvalidInput(
                N_("There is no such organisation."),
                code="unknown_organisation",
                field="organisation",
            )
        return tree

    def figures(self, db: Session, filters: Filters) -> Analytics:
        tree = self.check(db, filters)
        categories = None
        if filters.category is not None:
            categories = _subtree(tree, filters.category)
        where = _where(DAILY, filters, categories)
        totals = (
            db.execute(select(*(func.sum(DAILY.c[n]).label(n) for n in COUNTERS)).where(*where))
            .mappings()
            .one()
        )
        counts = {n: int(totals[n] or 0) for n in COUNTERS}
        raw = _where_reports(filters, categories, self.days)
        summary = Summary(
            counts=_counts(counts),
            responded=counts["responded"],
            first_response_median=_percentile(db, "first_response_s", "r", counts, raw, 50),
            first_response_p90=_percentile(db, "first_response_s", "r", counts, raw, 90),
            answer_median=_percentile(db, "first_answer_s", "a", counts, raw, 50),
            answer_p90=_percentile(db, "first_answer_s", "a", counts, raw, 90),
        )
        return Analytics(
            filters=filters,
            summary=summary,
            series=_series(db, filters, where),
            categories=_grouped(db, "category", where),
            districts=_grouped(db, "district", where),
            organisations=_grouped(db, "organisation", where),
            cells=_cells(db, filters, categories, self.days),
        )


def _subtree(tree: CategoryTree, code: str) -> list[str]:
    found, todo = [], [code]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(c.code for c in tree.children(current))
    return sorted(found)


def _where(
    table: Table, filters: Filters, categories: list[str] | None, time: str = "day"
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    start, end = filters.start_day(), filters.end_day()
    if start is not None:
        conditions.append(table.c[time] >= start)
    if end is not None:
        conditions.append(table.c[time] <= end)
    return conditions + _codes(table, filters, categories)


def _codes(table: Table, filters: Filters, categories: list[str] | None) -> list[Any]:
    conditions: list[Any] = []
    if categories is not None:
        conditions.append(table.c.category.in_(categories))
    if filters.district is not None:
        conditions.append(table.c.district == filters.district)
    if filters.organisation is not None:
        conditions.append(table.c.organisation == filters.organisation)
    return conditions


def _received(low: int | None, high: int | None, days: LocalDays) -> list[Any]:
    """Reports received on the local days ``[low, high)`` (``None``: open)."""
    conditions: list[Any] = []
    if low is not None:
        conditions.append(REPORTS.c.received_at >= days.start(low))
    if high is not None:
        conditions.append(REPORTS.c.received_at < days.start(high))
    return conditions


def _where_reports(filters: Filters, categories: list[str] | None, days: LocalDays) -> list[Any]:
    start, end = filters.start_day(), filters.end_day()
    return _codes(REPORTS, filters, categories) + _received(
        start, None if end is None else end + 1, days
    )


def _percentile(
    db: Session, column: str, prefix: str, counts: dict[str, int], where: list[Any], percent: int
) -> int | None:
    """The exact nearest-rank percentile: the bucket from the counts, the value from the
    index at its offset inside that bucket."""
    values = [counts[f"{prefix}{i}"] for i in range(BUCKETS)]
    total = sum(values)
    if total == 0:
        return None
    index, offset = locate(values, rank(total, percent))
    low, high = bucket_range(index)
    col = REPORTS.c[column]
    bounds = [col >= low] + ([col < high] if high is not None else [])
    value = db.execute(
        select(col).where(*bounds, *where).order_by(col).limit(1).offset(offset)
    ).scalar()
    return None if value is None else int(value)


def _grouped(db: Session, name: str, where: list[Any]) -> list[tuple[str, Counts]]:
    rows = db.execute(
        select(DAILY.c[name].label("key"), *(func.sum(DAILY.c[n]).label(n) for n in SHOWN))
        .where(*where)
        .group_by(DAILY.c[name])
    ).mappings()
    found = [(str(row["key"]), _counts(row)) for row in rows]
    return sorted(found, key=lambda item: (-item[1].received, item[0]))


def _series(db: Session, filters: Filters, where: list[Any]) -> list[tuple[str, Counts]]:
    """Counts per period, with the empty periods between the first and the last."""
    rows = db.execute(
        select(DAILY.c.day, *(func.sum(DAILY.c[n]).label(n) for n in SHOWN))
        .where(*where)
        .group_by(DAILY.c.day)
    ).mappings()
    by: dict[int, Counter[str]] = {}
    for row in rows:
        start = period_start(int(row["day"]), filters.by)
        by.setdefault(start, Counter()).update({n: int(row[n] or 0) for n in SHOWN})
    if not by:
        return []
    first = period_start(filters.start_day() or min(by), filters.by)
    last = period_start(filters.end_day() or max(by), filters.by)
    out = []
    current = first
    while current <= last:
        counter = by.get(current, Counter())
        out.append((period_label(current, filters.by), Counts(*(counter[n] for n in SHOWN))))
        if filters.by == "month":
            current = next_month(current)
        elif filters.by == "week":
            current = week_of(current) + 7
        else:
            current += 1
    return out


def _cells(
    db: Session, filters: Filters, categories: list[str] | None, days: LocalDays
) -> list[tuple[int, int, int]]:
    """Reports per 0.01° cell: whole months from the monthly table, edge days from rows."""
    start, end = filters.start_day(), filters.end_day()
    # The whole months inside the period: [first, stop) as month numbers (None: open).
    first = (
        None
        if start is None
        else (start if month_of(start) == start else next_month(month_of(start)))
    )
    stop = None if end is None else month_of(end + 1)
    counts: Counter[tuple[int, int]] = Counter()
    whole = first is None or stop is None or first < stop
    edges: list[tuple[int | None, int | None]] = []
    if whole:
        conditions = _codes(CELLS, filters, categories)
        if first is not None:
            conditions.append(CELLS.c.month >= first)
            if start is not None and start < first:
                edges.append((start, first))
        if stop is not None:
            conditions.append(CELLS.c.month < stop)
            if end is not None and stop <= end:
                edges.append((stop, end + 1))
        for lat, lon, reports in db.execute(
            select(CELLS.c.lat_e2, CELLS.c.lon_e2, func.sum(CELLS.c.reports))
            .where(*conditions)
            .group_by(CELLS.c.lat_e2, CELLS.c.lon_e2)
        ):
            counts[(int(lat), int(lon))] += int(reports)
    else:
        edges.append((start, None if end is None else end + 1))
    for low, high in edges:
        conditions = _codes(REPORTS, filters, categories) + _received(low, high, days)
        for lat, lon in db.execute(select(REPORTS.c.lat_e6, REPORTS.c.lon_e6).where(*conditions)):
            counts[(int(lat) // GRID_E6, int(lon) // GRID_E6)] += 1
    return sorted(
        ((lat, lon, n) for (lat, lon), n in counts.items() if n), key=lambda c: (-c[2], c[0], c[1])
    )
