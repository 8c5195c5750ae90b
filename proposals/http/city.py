"""The city-wide dashboard for staff (``/admin/city``): participation over time and by
district, review times, co-funding raised against what is required; a chart for each
and every table as CSV (``/admin/city/csv/{table}``)."""

from __future__ import annotations

import csv
import io
from typing import Any

from babel.numbers import format_decimal
from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from ballot.services.roll import formula_safe
from kernel import i18n
from kernel.web import DB, Viewer, render, request_language, requires_role
from proposals.http.state import ProposalState
from proposals.services.city import SERIES, CityFigures, Table, city_figures

__all__ = ["CityDashboard"]

CHART_WIDTH = 240
CHART_HEIGHT = 60


def _money(minor: int, lang: str) -> str:
    return i18n.money(lang, minor, "RUB")


def _cell(value: int | str, money: bool, lang: str, gettext: Any) -> str:
    if isinstance(value, int):
        return _money(value, lang) if money else format_decimal(value, locale=lang)
    return i18n.label(lang, gettext(value)) if value else value


def _shown(table: Table, lang: str) -> dict[str, Any]:
    gettext = i18n.translations(lang).gettext
    return {
        "key": table.key,
        "title": gettext(table.title),
        "columns": [gettext(c) for c in table.columns],
        "rows": [
            [_cell(v, i in table.money, lang, gettext) for i, v in enumerate(row)]
            for row in table.rows
        ],
    }


def _month_charts(figures: CityFigures, lang: str) -> list[dict[str, Any]]:
    """A small bar chart per series over the months."""
    gettext = i18n.translations(lang).gettext
    rows = figures.monthly.rows
    charts = []
    for index, (_key, title) in enumerate(SERIES, start=1):
        values = [int(row[index]) for row in rows]
        top = max(values, default=0) or 1
        n = max(1, len(values))
        step = CHART_WIDTH // n
        bars = [
            {
                "x": i * step + 1,
                "w": max(1, step - 2),
                "h": v * CHART_HEIGHT // top,
                "label": f"{rows[i][0]}: {format_decimal(v, locale=lang)}",
            }
            for i, v in enumerate(values)
        ]
        charts.append(
            {
                "title": gettext(title),
                "total": format_decimal(sum(values), locale=lang),
                "bars": bars,
            }
        )
    return charts


def _district_bars(figures: CityFigures, lang: str) -> list[dict[str, Any]]:
    """Ballots per district, as a share of the largest, for horizontal bars."""
    ballots = len(SERIES)  # the last series column
    rows = figures.districts.rows
    top = max((int(r[ballots]) for r in rows), default=0) or 1
    return [
        {
            "name": i18n.label(lang, i18n.translations(lang).gettext(str(r[0]))),
            "value": format_decimal(int(r[ballots]), locale=lang),
            "percent": int(r[ballots]) * 100 // top,
        }
        for r in rows
    ]


class CityDashboard(Controller):
    path = "/admin/city"
    include_in_schema = False
    guards = [requires_role("admin", "moderator")]  # noqa: RUF012 - read as a class attribute

    @get("/", sync_to_thread=True)
    def page(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        """The dashboard."""
        lang = request_language(request)
        with db.begin():
            figures = city_figures(db, state.settings.time_zone)
        cofunding = [
            {"title": row[0], "percent": min(100, int(row[5])), "shown": row}
            for row in figures.cofunding.rows
        ]
        return render(
            request,
            "office/city.html",
            {
                "tables": [_shown(t, lang) for t in figures.tables()],
                "charts": _month_charts(figures, lang),
                "districts": _district_bars(figures, lang),
                "cofunding": cofunding,
                "chart_width": CHART_WIDTH,
                "by_day": figures.monthly.columns[0] == "Day",
                "chart_height": CHART_HEIGHT,
            },
            viewer=viewer,
        )

    @get("/csv/{table:str}", sync_to_thread=True)
    def table_csv(
        self, request: Request[Any, Any, Any], table: FromPath[str], db: DB, state: ProposalState
    ) -> Response[str]:
        """One table as CSV: money in minor units, as the figures are kept."""
        lang = request_language(request)
        gettext = i18n.translations(lang).gettext
        with db.begin():
            found = city_figures(db, state.settings.time_zone).table(table)
        if found is None:
            raise NotFoundException(detail="No such table.")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([gettext(c) for c in found.columns])
        for row in found.rows:
            writer.writerow(
                [formula_safe(gettext(v) if isinstance(v, str) else str(v)) for v in row]
            )
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="city-{found.key}.csv"'},
        )
