"""The analytics' aggregates, kept by every step of a report (docs/protocol.md §16.10).

``report_daily`` and ``report_cell_month`` are a function of the report rows' facts
(``reports.core.analytics.Facts``): a work item that changes a report notes the
report's facts when it first reads it (``note``) and, before it ends, subtracts them
and adds the facts it leaves (``settle``), in the same transaction as the change and
its log entry. ``recompute`` builds the same tables from the rows alone: the tests hold
the kept tables against it, and ``rebuild`` uses it to fill them from scratch.

Days are the municipality's local days (``reports.core.analytics.LocalDays``, the setting
``time_zone``). The zone the tables were counted in is kept beside them
(``report_analytics_zone``); ``ensure_zone`` recounts them when the setting has changed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, and_, delete, insert, select, update
from sqlalchemy.orm import Session

from reports.core.analytics import COUNTERS, Facts, LocalDays
from reports.core.location import GRID_E6
from reports.services.models import Report, ReportAnalyticsZone, ReportCellMonth, ReportDaily

DAILY: Table = ReportDaily.__table__  # type: ignore[attr-defined]
CELLS: Table = ReportCellMonth.__table__  # type: ignore[attr-defined]
ZONE: Table = ReportAnalyticsZone.__table__  # type: ignore[attr-defined]
DAILY_KEY = ("day", "category", "district", "organisation")
CELL_KEY = ("month", "category", "district", "organisation", "lat_e2", "lon_e2")
_NOTED = "report_facts"
_DAYS = "report_days"

DailyRows = dict[tuple[int, str, str, str], Counter[str]]
CellRows = dict[tuple[int, str, str, str, int, int], int]


def facts(report: Report, days: LocalDays) -> Facts:
    return Facts(
        day=days.day(report.received_at),
        category=report.category,
        district=report.district,
        organisation=report.organisation,
        lat_e2=report.lat_e6 // GRID_E6,
        lon_e2=report.lon_e6 // GRID_E6,
        first_response_s=report.first_response_s,
        first_answer_s=report.first_answer_s,
        answered_in_time=report.answered_in_time,
        reopened=report.reopened > 0,
        ratings=report.ratings,
        rating_sum=report.rating_sum,
    )


def _bump(
    db: Session,
    table: Table,
    names: tuple[str, ...],
    key: tuple[Any, ...],
    delta: dict[str, int],
    total: str,
) -> None:
    """Add ``delta`` to the row of ``key`` (made when missing; removed when its
    ``total`` counter falls to zero, so the tables hold no empty rows)."""
    where = and_(*(table.c[n] == v for n, v in zip(names, key, strict=True)))
    changes = {name: table.c[name] + value for name, value in delta.items() if value}
    if not changes:
        return
    done = db.execute(update(table).where(where).values(changes))
    if done.rowcount == 0:  # type: ignore[attr-defined]
        db.execute(insert(table).values(dict(zip(names, key, strict=True)) | delta))
    elif delta.get(total, 0) < 0:
        db.execute(delete(table).where(where, table.c[total] <= 0))


def add(db: Session, item: Facts, sign: int) -> None:
    """Count (``sign`` 1) or uncount (-1) one report's facts."""
    counts = {name: sign * value for name, value in item.counts().items()}
    _bump(db, DAILY, DAILY_KEY, item.key(), counts, "received")
    _bump(db, CELLS, CELL_KEY, item.cell_key(), {"reports": sign}, "reports")


def account(db: Session, before: Facts | None, after: Facts | None) -> None:
    """Move the aggregates from a report's ``before`` facts to its ``after`` facts."""
    if before == after:
        return
    if before is not None:
        add(db, before, -1)
    if after is not None:
        add(db, after, 1)


def note(db: Session, report: Report, days: LocalDays) -> None:
    """Remember a report's facts as a work item first reads it (once per work item)."""
    db.info[_DAYS] = days
    noted: dict[str, Facts | None] = db.info.setdefault(_NOTED, {})
    noted.setdefault(report.id, facts(report, days))


def received(db: Session, report: Report, days: LocalDays) -> None:
    """A new report: nothing to subtract."""
    db.info[_DAYS] = days
    noted: dict[str, Facts | None] = db.info.setdefault(_NOTED, {})
    noted.setdefault(report.id, None)


def forget(db: Session) -> None:
    """Drop what a failed work item noted."""
    db.info.pop(_NOTED, None)
    db.info.pop(_DAYS, None)


def settle(db: Session) -> None:
    """Account for every report the work item noted; call it before the work item ends."""
    noted: dict[str, Facts | None] = db.info.pop(_NOTED, {})
    days: LocalDays | None = db.info.pop(_DAYS, None)
    if days is None:
        return
    for report_id, before in noted.items():
        report = db.get(Report, report_id)
        account(db, before, None if report is None else facts(report, days))


def recompute(rows: Iterable[Report], days: LocalDays) -> tuple[DailyRows, CellRows]:
    """The aggregates from report rows alone, by the local days of ``days``."""
    daily: DailyRows = defaultdict(Counter)
    cells: CellRows = Counter()
    for report in rows:
        item = facts(report, days)
        daily[item.key()].update(item.counts())
        cells[item.cell_key()] += 1
    return dict(daily), dict(cells)


def stored(db: Session) -> tuple[DailyRows, CellRows]:
    """The aggregates as kept, in ``recompute``'s shape."""
    daily: DailyRows = {}
    for row in db.execute(select(DAILY)).mappings():
        key = tuple(row[n] for n in DAILY_KEY)
        daily[key] = Counter({n: int(row[n]) for n in COUNTERS})
    cells: CellRows = {
        tuple(row[n] for n in CELL_KEY): int(row["reports"])
        for row in db.execute(select(CELLS)).mappings()
    }
    return daily, cells


def kept_zone(db: Session) -> str | None:
    """The time zone the kept tables count local days in (``None``: not yet counted)."""
    return db.execute(select(ZONE.c.time_zone)).scalar()


def keep_zone(db: Session, zone: str) -> None:
    db.execute(delete(ZONE))
    db.execute(insert(ZONE).values(time_zone=zone))


def ensure_zone(db: Session, zone: str) -> int | None:
    """Recount the tables in ``zone`` unless they are counted in it already (the setting
    ``time_zone`` changed, or they were never counted); the reports counted, or ``None``
    when nothing was to be done."""
    if kept_zone(db) == zone:
        return None
    return rebuild(db, LocalDays(zone))


def rebuild(db: Session, days: LocalDays, batch: int = 10_000) -> int:
    """Fill both tables from the report rows by the local days of ``days`` (after a
    restore, an upgrade or a change of time zone); returns the number of reports
    counted."""
    db.execute(delete(DAILY))
    db.execute(delete(CELLS))
    keep_zone(db, days.zone)
    daily, cells = recompute(db.scalars(select(Report).execution_options(yield_per=batch)), days)
    rows = [dict(zip(DAILY_KEY, key, strict=True)) | dict(c) for key, c in daily.items()]
    for start in range(0, len(rows), batch):
        chunk = [
            {n: r.get(n, 0) for n in (*DAILY_KEY, *COUNTERS)} for r in rows[start : start + batch]
        ]
        db.execute(insert(DAILY), chunk)
    cell_rows = [dict(zip(CELL_KEY, key, strict=True)) | {"reports": n} for key, n in cells.items()]
    for start in range(0, len(cell_rows), batch):
        db.execute(insert(CELLS), cell_rows[start : start + batch])
    return sum(c["received"] for c in daily.values())
