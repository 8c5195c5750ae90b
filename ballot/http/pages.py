"""Election pages: the list, the ballot (voting happens in the browser, see
``kernel/static/js/ballot-page.js``), the results with their explanation, "check my
ballot", and the admin dashboard of an election.

The pages read what the API serves and add nothing to it: a page never sees a
credential's private key, and the numbers it shows are the published result's.

Other packages may add sections to the admin dashboard (``DashboardPanel``): the
composition root passes their sources to ``election_pages``; this package knows none
of them.

This module holds the routes; each page's work is in its own module: ``ballot_page``,
``results_page``, ``check_page`` (checking a receipt without JavaScript) and
``dashboard`` (the admin dashboard's numbers and panels), over ``display``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from sqlalchemy import select

from ballot.http.ballot_page import DetailsSource, ProjectDetails, ballot_page
from ballot.http.check_page import CHECK_INPUT_LIMIT, check_receipt_server
from ballot.http.dashboard import DashboardPanel, PanelSource, dashboard_numbers
from ballot.http.display import manifest_of
from ballot.http.results_page import results_page
from ballot.http.state import ElectionState
from ballot.services.elections import ElectionService
from kernel.accounts.models import District
from kernel.web import DB, Viewer, render, requires_role


class ElectionPages(Controller):
    include_in_schema = False
    # The dashboard's extra sections, in order (see ``election_pages``).
    dashboard_panels: ClassVar[tuple[PanelSource, ...]] = ()
    # Summaries, photos and links of the ballot's projects (see ``election_pages``).
    project_details: ClassVar[tuple[DetailsSource, ...]] = ()

    @get("/elections", sync_to_thread=True)
    def elections(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        service: ElectionService = state.elections
        with db.begin():
            rows = [r for r in service.list(db) if r.status != "draft"]
            names = {d.code: d.name for d in db.scalars(select(District))}
        return render(
            request, "vote/elections.html", {"elections": rows, "districts": names}, viewer=viewer
        )

    @get("/elections/{election_id:str}", sync_to_thread=True)
    def ballot(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        """The ballot of a published election."""
        return ballot_page(request, db, state, viewer, election_id, self.project_details)

    @get("/elections/{election_id:str}/results", sync_to_thread=True)
    def results(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        """The published result of an election, explained."""
        return results_page(request, db, state, viewer, election_id)

    @get("/check", sync_to_thread=True)
    def check_form(
        self, request: Request[Any, Any, Any], state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        return render(
            request,
            "vote/check.html",
            {"outcome": None, "receipt": "", "allow_test_keys": state.settings.allow_test_keys},
            viewer=viewer,
        )

    @post("/check", sync_to_thread=True, status_code=200)
    def check(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        text = data.get("receipt", "")
        text = text[-1] if isinstance(text, list) else str(text)
        if len(text) > CHECK_INPUT_LIMIT:
            outcome: dict[str, Any] = {"malformed": True, "results": [], "echo": ""}
        else:
            with db.begin():
                outcome = check_receipt_server(db, state.log_store, text)
        return render(
            request,
            "vote/check.html",
            {
                "outcome": outcome,
                "receipt": outcome["echo"],
                "allow_test_keys": state.settings.allow_test_keys,
            },
            viewer=viewer,
            status_code=400 if outcome["malformed"] else 200,
        )

    @get("/admin/elections", guards=[requires_role("admin")], sync_to_thread=True)
    def admin_elections(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            rows = state.elections.list(db)
            names = {d.code: d.name for d in db.scalars(select(District))}
        return render(
            request, "admin/elections.html", {"elections": rows, "districts": names}, viewer=viewer
        )

    @get("/admin/elections/{election_id:str}", guards=[requires_role("admin")], sync_to_thread=True)
    def dashboard(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        with db.begin():
            row = state.elections.get(db, election_id)
            numbers = dashboard_numbers(db, row)
            panels = [p for source in self.dashboard_panels if (p := source(db)) is not None]
        return render(
            request,
            "admin/dashboard.html",
            {"election": row, "manifest": manifest_of(row), "n": numbers, "panels": panels},
            viewer=viewer,
        )


def election_pages(
    *,
    dashboard_panels: Iterable[PanelSource] = (),
    project_details: Iterable[DetailsSource] = (),
) -> type[ElectionPages]:
    """The election pages, with these extra sections on the admin dashboard and these
    sources of what the ballot shows of each project."""
    return type(
        "ElectionPages",
        (ElectionPages,),
        {
            "dashboard_panels": tuple(dashboard_panels),
            "project_details": tuple(project_details),
        },
    )


__all__ = [
    "DashboardPanel",
    "DetailsSource",
    "ElectionPages",
    "PanelSource",
    "ProjectDetails",
    "election_pages",
]
