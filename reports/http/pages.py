"""Report pages: the public list with a map, the report form (a Leaflet map to choose the
point, nearby open reports offered before a duplicate is sent), one report with its
status kept live, my reports, an organisation's queue with overdue marks, the
supervisor's overdue list and the public statistics. Forms work without JavaScript;
scripts only add the map and the live status."""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy import select

from kernel.accounts.models import District
from kernel.errors import DomainError, Forbidden, InvalidInput
from kernel.markers import N_
from kernel.web import (
    DB,
    UPLOAD_LIMIT,
    Upload,
    Viewer,
    keep_upload,
    read_upload,
    render,
    requires_login,
    requires_role,
)
from reports.core.display import (
    STATUS_NAMES,
    TILE_URL,
    days_hours,
    decimal2,
    degrees,
    parse_degrees,
    percent,
)
from reports.core.location import Point
from reports.core.schemas import ReportCreate
from reports.http.state import ReportState

Form = URLEncodedBody[dict[str, Any]]
answering = requires_role("org_staff", "supervisor", "admin")
supervising = requires_role("supervisor", "admin")
HELPERS = {
    "STATUS_NAMES": STATUS_NAMES,
    "degrees": degrees,
    "days_hours": days_hours,
    "percent": percent,
    "decimal2": decimal2,
    "tiles": TILE_URL,
}


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _to(report_id: str) -> Response[Any]:
    return Redirect(f"/reports/{report_id}", status_code=303)


def _points(rows: list[Any]) -> str:
    return json.dumps(
        [
            {
                "lat": degrees(r.lat_e6),
                "lon": degrees(r.lon_e6),
                "url": f"/reports/{r.id}",
                "title": r.description[:80],
            }
            for r in rows
        ]
    )


class ReportPages(Controller):
    include_in_schema = False

    def _categories(self, db: Any, state: ReportState) -> list[Any]:
        tree = state.reports.config.tree(db)
        return sorted(tree.categories.values(), key=lambda c: tree.path(c.code)[::-1])

    @get("/reports", sync_to_thread=True)
    def list_page(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            rows = state.report_views.public(db, category=request.query_params.get("category"))
            reports = [state.report_views.out(db, r, None) for r in rows]
            categories = self._categories(db, state)
        return render(
            request,
            "reports/list.html",
            {"rows": reports, "categories": categories, "points": _points(rows), **HELPERS},
            viewer=viewer,
        )

    def _form(
        self,
        request: Request[Any, Any, Any],
        db: Any,
        state: ReportState,
        viewer: Viewer,
        form: dict[str, str],
        errors: dict[str, str],
        nearby: list[Any] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        districts_known = state.reports.config.districts(db).known
        districts = (
            [] if districts_known else list(db.execute(select(District.code, District.name)).all())
        )
        return render(
            request,
            "reports/new.html",
            {
                "form": form,
                "errors": errors,
                "categories": self._categories(db, state),
                "districts": districts,
                "nearby": nearby or [],
                **HELPERS,
            },
            viewer=viewer,
            status_code=status_code,
        )

    @get("/reports/new", guards=[requires_login], sync_to_thread=True)
    def new_form(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        form = {"public": "1"}
        # A link from a municipal site's widget may name the category.
        wanted = request.query_params.get("category", "")
        with db.begin():
            if wanted in state.reports.config.tree(db).categories:
                form["category"] = wanted
            return self._form(request, db, state, viewer, form, {})

    @post(
        "/reports/new",
        guards=[requires_login],
        sync_to_thread=True,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def create(
        self,
        request: Request[Any, Any, Any],
        data: Upload,
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> Response[Any]:
        assert viewer is not None
        names = ("category", "description", "latitude", "longitude", "district", "public")
        form = {k: _text(data, k) for k in (*names, "confirm")}
        errors: dict[str, str] = {}
        lat = parse_degrees(form["latitude"], 90)
        lon = parse_degrees(form["longitude"], 180)
        if lat is None or lon is None:
            errors["location"] = N_(
                "Choose the point on the map, or type its latitude and longitude."
            )
        if not form["description"]:
            errors["description"] = N_("Describe the problem in a few words.")
        elif len(form["description"]) > 5000:
            errors["description"] = N_("This text is too long.")
        content = read_upload(data)
        with state.read_sessions() as rdb:
            if errors:
                return self._form(request, rdb, state, viewer, form, errors, status_code=400)
            assert lat is not None and lon is not None
            if not form["confirm"]:
                nearby = state.report_views.nearby(rdb, form["category"], Point(lat, lon))
                if nearby:
                    return self._form(request, rdb, state, viewer, form, {}, nearby)
        body = ReportCreate(
            category=form["category"],
            description=form["description"],
            lat_e6=lat,
            lon_e6=lon,
            district=form["district"] or None,
            public=form["public"] == "1",
        )
        try:
            report_id = state.reports.create(viewer.user, body)
        except InvalidInput as exc:
            key = exc.field or "form"
            with state.read_sessions() as rdb:
                return self._form(
                    request, rdb, state, viewer, form, {key: exc.detail}, status_code=400
                )
        if content:
            with db.begin():
                state.report_photos.add(db, viewer.user, report_id, content)
        return _to(report_id)

    @get("/reports/mine", guards=[requires_login], sync_to_thread=True)
    def mine(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        assert viewer is not None
        with db.begin():
            rows = [
                state.report_views.out(db, r, viewer.user)
                for r in state.report_views.mine(db, viewer.user)
            ]
        return render(request, "reports/mine.html", {"rows": rows, **HELPERS}, viewer=viewer)

    @get("/reports/queue", guards=[requires_role("org_staff")], sync_to_thread=True)
    def queue(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        assert viewer is not None
        with db.begin():
            organisation = state.reports.config.organisation_of(db, viewer.user)
            if organisation is None:
                raise Forbidden(
                    N_("Only an organisation's staff have a queue."), code="forbidden_role"
                )
            rows = [
                state.report_views.out(db, r, viewer.user)
                for r in state.report_views.queue(db, organisation)
            ]
        return render(
            request,
            "reports/queue.html",
            {
                "rows": rows,
                "organisation": organisation,
                "title": N_("Reports to answer"),
                **HELPERS,
            },
            viewer=viewer,
        )

    @get("/reports/overdue", guards=[supervising], sync_to_thread=True)
    def overdue(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        assert viewer is not None
        with db.begin():
            rows = [
                state.report_views.out(db, r, viewer.user) for r in state.report_views.overdue(db)
            ]
        return render(
            request,
            "reports/queue.html",
            {
                "rows": rows,
                "organisation": None,
                "title": N_("Overdue and reopened reports"),
                **HELPERS,
            },
            viewer=viewer,
        )

    @get("/reports/statistics", sync_to_thread=True)
    def statistics(
        self, request: Request[Any, Any, Any], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            figures = state.reports.statistics(db).to_json()
        return render(
            request, "reports/statistics.html", {"figures": figures, **HELPERS}, viewer=viewer
        )

    @get("/reports/{report_id:str}", sync_to_thread=True)
    def detail(
        self,
        request: Request[Any, Any, Any],
        report_id: FromPath[str],
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> Response[str]:
        user = viewer.user if viewer else None
        with db.begin():
            row = state.reports.get(db, report_id, user)
            report = state.report_views.out(db, row, user)
            may_act = False
            if user is not None and user.id != row.reporter_id:
                try:
                    state.reports.actor(db, user, row)
                    may_act = True
                except DomainError:
                    may_act = False
            organisations = state.reports.config.organisations(db)
        return render(
            request,
            "reports/detail.html",
            {
                "r": report,
                "may_act": may_act,
                "supervisor": user is not None and user.role in ("supervisor", "admin"),
                "organisations": organisations,
                "points": _points([row]),
                **HELPERS,
            },
            viewer=viewer,
        )

    # --- steps from the report's page --------------------------------------------------
    @post("/reports/{report_id:str}/take", guards=[answering], sync_to_thread=True)
    def take(self, report_id: FromPath[str], state: ReportState, viewer: Viewer) -> Response[Any]:
        assert viewer is not None
        state.reports.take(viewer.user, report_id)
        return _to(report_id)

    @post(
        "/reports/{report_id:str}/photos",
        guards=[requires_login],
        sync_to_thread=True,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def photo(
        self, report_id: FromPath[str], data: Upload, db: DB, state: ReportState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        keep_upload(db, data, state.report_photos.add, viewer.user, report_id)
        return _to(report_id)

    @post("/reports/{report_id:str}/answer", guards=[answering], sync_to_thread=True)
    def answer(
        self, report_id: FromPath[str], data: Form, state: ReportState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        state.reports.answer(viewer.user, report_id, _text(data, "text"))
        return _to(report_id)

    @post("/reports/{report_id:str}/rate", guards=[requires_login], sync_to_thread=True)
    def rate(
        self, report_id: FromPath[str], data: Form, state: ReportState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        rating = _text(data, "rating")
        if rating not in ("1", "2", "3", "4", "5"):
            raise InvalidInput(
                N_("Choose a rating from 1 to 5."), code="invalid_rating", field="rating"
            )
        state.reports.rate(viewer.user, report_id, int(rating), _text(data, "comment")[:2000])
        return _to(report_id)

    @post("/reports/{report_id:str}/reassign", guards=[answering], sync_to_thread=True)
    def reassign(
        self, report_id: FromPath[str], data: Form, state: ReportState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        state.reports.reassign(viewer.user, report_id, _text(data, "organisation"))
        return _to(report_id)

    @post("/reports/{report_id:str}/send-back", guards=[supervising], sync_to_thread=True)
    def send_back(
        self, report_id: FromPath[str], state: ReportState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        state.reports.send_back(viewer.user, report_id)
        return _to(report_id)

    @post("/reports/{report_id:str}/follow", guards=[requires_login], sync_to_thread=True)
    def follow(
        self, report_id: FromPath[str], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        with db.begin():
            state.reports.follow(db, viewer.user, report_id)
        return _to(report_id)
