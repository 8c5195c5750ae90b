"""The management-centre analytics page (``/office/reports/analytics``,
docs/protocol.md §16.10): volumes over time and by category, district and organisation,
response times, shares and ratings, charts drawn as SVG without inline styles, a map of
where reports cluster, and every table as CSV (``/office/reports/analytics/csv/{table}``).
The filters live in the URL, so a view can be bookmarked and its CSV matches it.

Who sees what: supervisors and administrators see every organisation; an
organisation's staff see their own organisation only — the filter is set to it, and a
request for another organisation is refused (403). Residents and visitors are refused.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal
from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from sqlalchemy import select

from kernel import i18n
from kernel.accounts.models import District
from kernel.errors import Forbidden, InvalidInput, NotFound
from kernel.markers import N_
from kernel.web import DB, Viewer, render, request_language, requires_role
from reports.core.analytics import FilterRefused, Filters, parse_filters
from reports.core.display import TILE_URL, days_hours, decimal2, percent
from reports.core.location import GRID_E6
from reports.http.state import ReportState
from reports.services.analytics import Analytics, Counts, ReportAnalytics

__all__ = ["AnalyticsPage"]

CHART_WIDTH = 300
CHART_HEIGHT = 80
MAP_CELLS = 2000
"""The most cells the map is sent (the busiest); the CSV has them all."""

COLUMNS = (
    N_("Reports"),
    N_("Answered"),
    N_("Answered in time"),
    N_("Within the deadline, %"),
    N_("Ratings"),
    N_("Sum of ratings"),
    N_("Average rating"),
    N_("Reopened"),
    N_("Reopened, %"),
)
PAGE_COLUMNS = (0, 1, 3, 4, 6, 8)
"""The columns of ``COLUMNS`` the page shows; the CSV has them all, with the counts
behind each share."""
TABLES = {
    "series": N_("Reports by period (by the day received, local time)"),
    "categories": N_("By category"),
    "districts": N_("By district"),
    "organisations": N_("By organisation"),
    "cells": N_("Where reports cluster (0.01° cells)"),
}
PERIOD_NAMES = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}


@dataclass(frozen=True)
class Shown:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]


def _number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def _row(counts: Counts) -> list[str]:
    """The columns of ``COLUMNS`` as exact figures (shares to 0.1 %, rating to 0.01)."""
    return [
        str(counts.received),
        str(counts.answered),
        str(counts.in_time),
        percent(counts.within_deadline),
        str(counts.ratings),
        str(counts.rating_sum),
        decimal2(counts.average_rating),
        str(counts.reopened),
        percent(counts.reopen_rate),
    ]


def _degrees(e2: int) -> str:
    sign = "-" if e2 < 0 else ""
    whole, hundredths = divmod(abs(e2), 100)
    return f"{sign}{whole}.{hundredths:02d}"


def tables(figures: Analytics, names: dict[str, dict[str, str]], gettext: Any) -> list[Shown]:
    """Every table of the page in the reader's language, raw figures as strings."""
    title = {key: gettext(text) for key, text in TABLES.items()}
    out = [
        Shown(
            "series",
            title["series"],
            [gettext(PERIOD_NAMES[figures.filters.by]), *map(gettext, COLUMNS)],
            [[label, *_row(c)] for label, c in figures.series],
        )
    ]
    for key, heading, kind in (
        ("categories", N_("Category"), "category"),
        ("districts", N_("District"), "district"),
        ("organisations", N_("Organisation"), "organisation"),
    ):
        rows = getattr(figures, key)
        out.append(
            Shown(
                key,
                title[key],
                [gettext(heading), *map(gettext, COLUMNS)],
                [[names[kind].get(code, code), *_row(c)] for code, c in rows],
            )
        )
    out.append(
        Shown(
            "cells",
            title["cells"],
            [gettext(N_("Latitude from")), gettext(N_("Longitude from")), gettext(N_("Reports"))],
            [[_degrees(lat), _degrees(lon), str(n)] for lat, lon, n in figures.cells],
        )
    )
    return out


def _localized(table: Shown, lang: str) -> Shown:
    """The table as the page shows it: numbers in the reader's notation, as many decimals
    as the exact figures have (the CSV keeps the plain figures)."""

    def cell(value: str) -> str:
        if value in ("", "—"):
            return value
        decimals = len(value.partition(".")[2])
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(Decimal(value), format=pattern, locale=lang)

    keep = list(range(len(table.columns)))
    if table.key != "cells":
        keep = [0, *(1 + i for i in PAGE_COLUMNS)]
    rows = [[row[0], *(cell(row[i]) for i in keep[1:])] for row in table.rows]
    return replace(table, columns=[table.columns[i] for i in keep], rows=rows)


def _bars(figures: Analytics, lang: str) -> list[dict[str, Any]]:
    """Reports per period as bars, each with its answered part."""
    values = [(label, c.received, c.answered) for label, c in figures.series]
    top = max((v for _l, v, _a in values), default=0) or 1
    step = CHART_WIDTH / max(1, len(values))
    return [
        {
            "x": f"{i * step:.2f}",
            "w": f"{max(0.5, step * 0.8):.2f}",
            "h": received * CHART_HEIGHT // top,
            "a": answered * CHART_HEIGHT // top,
            "label": f"{label}: {_number(received, lang)}",
        }
        for i, (label, received, answered) in enumerate(values)
    ]


def _hbars(
    rows: list[tuple[str, Counts]], names: dict[str, str], lang: str
) -> list[dict[str, Any]]:
    top = max((c.received for _k, c in rows), default=0) or 1
    return [
        {
            "name": names.get(code, code),
            "value": _number(c.received, lang),
            "percent": c.received * 100 // top,
        }
        for code, c in rows[:12]
    ]


def _duration(gettext: Any, seconds: int | None) -> str:
    split = days_hours(seconds)
    if split is None:
        return "—"
    return str(gettext("%(days)s d %(hours)s h") % {"days": split[0], "hours": split[1]})


class AnalyticsPage(Controller):
    path = "/office/reports/analytics"
    include_in_schema = False
    guards = [requires_role("admin", "supervisor", "org_staff")]  # noqa: RUF012 - read as a class attribute

    def _filters(
        self, request: Request[Any, Any, Any], db: Any, state: ReportState, viewer: Viewer
    ) -> Filters:
        """The URL's filters, an organisation's staff held to their organisation."""
        assert viewer is not None
        try:
            filters = parse_filters(dict(request.query_params))
        except FilterRefused as exc:
            raise InvalidInput(exc.message, code="bad_filter", field=exc.field) from None
        if viewer.user.role == "org_staff":
            own = state.reports.config.organisation_of(db, viewer.user)
            if own is None or filters.organisation not in (None, own):
                raise Forbidden(
                    N_("An organisation's staff see the analytics of their own organisation only."),
                    code="other_organisation",
                )
            filters = replace(filters, organisation=own)
        return filters

    def _names(self, db: Any, state: ReportState, lang: str) -> dict[str, dict[str, str]]:
        tree = state.reports.config.tree(db)
        russian = lang == "ru"
        return {
            "category": {
                c.code: c.title_ru if russian else c.title_en for c in tree.categories.values()
            },
            "organisation": {
                o.code: o.name_ru if russian else o.name_en
                for o in state.reports.config.organisations(db)
            },
            "district": {
                code: i18n.label(lang, name)
                for code, name in db.execute(select(District.code, District.name)).all()  # type: ignore[call-overload]
            },
        }

    def _read(
        self, request: Request[Any, Any, Any], db: Any, state: ReportState, viewer: Viewer
    ) -> tuple[Analytics, dict[str, dict[str, str]], str]:
        lang = request_language(request)
        with db.begin():
            filters = self._filters(request, db, state, viewer)
            figures = ReportAnalytics(state.reports.config, state.reports.days).figures(db, filters)
            names = self._names(db, state, lang)
        return figures, names, lang

    @get("/", sync_to_thread=True)
    def page(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        """The analytics page."""
        figures, names, lang = self._read(request, db, state, viewer)
        gettext = i18n.translations(lang).gettext
        s = figures.summary
        query = urlencode(figures.filters.query())
        cells = [
            {"lat": lat * GRID_E6 / 1e6, "lon": lon * GRID_E6 / 1e6, "n": n}
            for lat, lon, n in figures.cells[:MAP_CELLS]
        ]
        return render(
            request,
            "reports/analytics.html",
            {
                "f": figures.filters,
                "query": query,
                "staff": viewer is not None and viewer.user.role == "org_staff",
                "names": {k: sorted(v.items(), key=lambda i: i[1]) for k, v in names.items()},
                "summary": {
                    "received": _number(s.counts.received, lang),
                    "answered": _number(s.counts.answered, lang),
                    "first_median": _duration(gettext, s.first_response_median),
                    "first_p90": _duration(gettext, s.first_response_p90),
                    "answer_median": _duration(gettext, s.answer_median),
                    "answer_p90": _duration(gettext, s.answer_p90),
                    "within": percent(s.counts.within_deadline),
                    "rating": decimal2(s.counts.average_rating),
                    "ratings": _number(s.counts.ratings, lang),
                    "reopen": percent(s.counts.reopen_rate),
                },
                "tables": [_localized(t, lang) for t in tables(figures, names, gettext)],
                "bars": _bars(figures, lang),
                "by_category": _hbars(figures.categories, names["category"], lang),
                "by_district": _hbars(figures.districts, names["district"], lang),
                "by_organisation": _hbars(figures.organisations, names["organisation"], lang),
                "cells": json.dumps(cells),
                "cell_count": len(figures.cells),
                "tiles": TILE_URL,
                "chart_width": CHART_WIDTH,
                "chart_height": CHART_HEIGHT,
            },
            viewer=viewer,
        )

    @get("/csv/{table:str}", sync_to_thread=True)
    def table_csv(
        self,
        request: Request[Any, Any, Any],
        table: FromPath[str],
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> Response[str]:
        """One table as CSV, for the filters in the URL."""
        if table not in TABLES:
            raise NotFound(N_("There is no such table."), code="no_table")
        figures, names, lang = self._read(request, db, state, viewer)
        gettext = i18n.translations(lang).gettext
        found = next(t for t in tables(figures, names, gettext) if t.key == table)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(found.columns)
        for row in found.rows:
            writer.writerow([_formula_safe(v) for v in row])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="reports-{table}.csv"'},
        )


def _formula_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (names are typed by staff)."""
    if value[:1] in ("=", "+", "@", "\t", "\r") or (value[:1] == "-" and not _numeric(value)):
        return "'" + value
    return value


def _numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
