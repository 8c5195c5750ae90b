"""The ballot page of an election: the projects with what their packages tell of them
(summary, photo, place on a map), the budget and the ballot's limits. Voting happens in
the browser (``kernel/static/js/ballot-page.js``); the page never sees a credential's
private key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from sqlalchemy.orm import Session

from ballot.core.record import currency_unit
from ballot.http.display import base_url, manifest_of, money, published
from ballot.http.state import ElectionState
from ballot.http.survey_view import ballot_questions, is_survey
from ballot.services.elections import ElectionService
from kernel.web import Viewer, render, request_language

# The longest random wait between obtaining a credential and casting on the same page;
# deployments that accept test keys (tests, local trials) wait less.
CAST_DELAY_MS = 8000
CAST_DELAY_TEST_MS = 400


@dataclass(frozen=True)
class ProjectDetails:
    """What the ballot shows of a project beyond the manifest's title and cost, given by
    the package the project came from (a proposal): a summary, a photo, a page."""

    summary: str = ""
    image: str | None = None
    link: str | None = None
    # Where the project is (millionths of a degree), its page's id for the map's link, and
    # the map tiles of the programme it came from.
    lat_e6: int | None = None
    lon_e6: int | None = None
    page_id: int | None = None
    map_tiles: str | None = None


def _degrees(e6: int) -> str:
    """Millionths of a degree as the decimal text a map reads, exactly."""
    sign = "-" if e6 < 0 else ""
    whole, part = divmod(abs(e6), 10**6)
    return f"{sign}{whole}.{part:06d}"


# Gives the details of the manifest's projects that have any, by project id, reading in
# the page's transaction (the manifest's projects as the argument).
DetailsSource = Callable[[Session, list[dict[str, Any]]], dict[str, ProjectDetails]]


def ballot_page(
    request: Request[Any, Any, Any],
    db: Session,
    state: ElectionState,
    viewer: Viewer,
    election_id: str,
    project_details: Iterable[DetailsSource],
) -> Response[str]:
    """The page of ``GET /elections/{id}``, with the projects' details from these sources."""
    service: ElectionService = state.elections
    with db.begin():
        row = published(service, db, election_id)
        manifest = manifest_of(row)
        details: dict[str, ProjectDetails] = {}
        for source in project_details:
            details.update(source(db, manifest["projects"]))
    currency = manifest.get("currency", "")
    lang = request_language(request)
    projects = [
        {
            **p,
            "cost_text": money(p.get("cost", 0), currency, lang),
            "details": details.get(p["id"]),
        }
        for p in manifest["projects"]
    ]
    spec = manifest["ballot"]
    limit = spec.get("max_total_cost")
    placed = [
        (p, d)
        for p in manifest["projects"]
        if (d := details.get(p["id"])) and d.lat_e6 is not None and d.lon_e6 is not None
    ]
    ballot_map = (
        {
            "tiles": placed[0][1].map_tiles or "",
            "points": json.dumps(
                [
                    {
                        "id": d.page_id,
                        "title": p["title"],
                        "lat": _degrees(d.lat_e6 or 0),
                        "lon": _degrees(d.lon_e6 or 0),
                    }
                    for p, d in placed
                ],
                ensure_ascii=False,
            ),
        }
        if placed
        else None
    )
    return render(
        request,
        "vote/ballot.html",
        {
            "election": row,
            "manifest": manifest,
            "projects": projects,
            "spec": spec,
            "budget_text": money(manifest.get("budget", 0), currency, lang),
            "limit_text": money(limit, currency, lang) if limit is not None else None,
            "unit": currency_unit(currency),
            "allow_test_keys": state.settings.allow_test_keys,
            "cast_delay_ms": CAST_DELAY_TEST_MS
            if state.settings.allow_test_keys
            else CAST_DELAY_MS,
            "base_url": base_url(request),
            "ballot_map": ballot_map,
            "questions": ballot_questions(manifest, lang) if is_survey(manifest) else [],
        },
        viewer=viewer,
    )
