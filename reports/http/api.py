"""Resident reports under /api/v1/reports (docs/protocol.md §16.7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

from litestar import Controller, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from kernel.errors import Forbidden, InvalidInput, NotAuthenticated
from kernel.markers import N_
from kernel.web import (
    DB,
    UPLOAD_LIMIT,
    Upload,
    Viewer,
    image_response,
    keep_upload,
    requires_login,
    requires_role,
)
from reports.core.location import Point
from reports.core.schemas import (
    AnswerIn,
    BoundaryIn,
    Latitude,
    Longitude,
    Nearby,
    RatingIn,
    ReassignIn,
    ReportCreate,
    ReportOut,
    StaffIn,
)
from reports.http.state import ReportState

admin = requires_role("admin")
supervising = requires_role("supervisor", "admin")
answering = requires_role("org_staff", "supervisor", "admin")
Show = Literal["public", "mine", "queue", "overdue"]
ReportId = str


def _user(viewer: Viewer) -> Any:
    return viewer.user if viewer else None


class ReportController(Controller):
    path = "/api/v1/reports"
    tags: ClassVar[list[str]] = ["reports"]

    # --- configuration -----------------------------------------------------------------
    @get("/categories", operation_id="reportCategories", sync_to_thread=True)
    def categories(self, db: DB, state: ReportState) -> list[dict[str, Any]]:
        """The category tree, each with its parent."""
        with db.begin():
            tree = state.reports.config.tree(db)
        return [
            {"code": c.code, "parent": c.parent, "title_en": c.title_en, "title_ru": c.title_ru}
            for c in sorted(tree.categories.values(), key=lambda c: c.code)
        ]

    @get("/organisations", operation_id="reportOrganisations", sync_to_thread=True)
    def organisations(self, db: DB, state: ReportState) -> list[dict[str, str]]:
        """The organisations that answer reports."""
        with db.begin():
            return [
                {"code": o.code, "name_en": o.name_en, "name_ru": o.name_ru}
                for o in state.reports.config.organisations(db)
            ]

    @put("/config", operation_id="setReportConfig", sync_to_thread=True, guards=[admin])
    def set_config(
        self, data: JSONBody[dict[str, Any]], db: DB, state: ReportState
    ) -> dict[str, int]:
        """Replace organisations, categories and routing rules (admins)."""
        with db.begin():
            tree = state.reports.config.replace(db, data)
        return {"categories": len(tree.categories), "rules": len(tree.rules)}

    @put(
        "/districts/{district:str}/boundary",
        operation_id="setDistrictBoundary",
        sync_to_thread=True,
        guards=[admin],
    )
    def set_boundary(
        self, district: FromPath[str], data: JSONBody[BoundaryIn], db: DB, state: ReportState
    ) -> dict[str, str]:
        """Set or remove a district's GeoJSON boundary (admins)."""
        with db.begin():
            state.reports.config.set_boundary(db, district, data.geojson)
        return {"district": district}

    @post(
        "/staff",
        operation_id="setOrganisationStaff",
        status_code=200,
        sync_to_thread=True,
        guards=[admin],
    )
    def set_staff(self, data: JSONBody[StaffIn], db: DB, state: ReportState) -> dict[str, Any]:
        """Make an account staff of one organisation (admins)."""
        with db.begin():
            state.reports.config.set_staff(db, data.user_id, data.organisation)
        return {"user_id": data.user_id, "organisation": data.organisation}

    # --- reports -----------------------------------------------------------------------
    @post(
        "/",
        operation_id="createReport",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_login],
    )
    def create(self, data: JSONBody[ReportCreate], state: ReportState, viewer: Viewer) -> ReportOut:
        """Report a problem at a point on the map."""
        report_id = state.reports.create(_user(viewer), data)
        return self._read_back(state, report_id, _user(viewer))

    @get("/", operation_id="listReports", sync_to_thread=True)
    def list_reports(
        self,
        db: DB,
        state: ReportState,
        viewer: Viewer,
        show: FromQuery[Show] = "public",
        category: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
    ) -> list[ReportOut]:
        """Public reports; one's own and followed (``show=mine``); an organisation's open
        queue (``queue``, its staff); the overdue and reopened ones (``overdue``,
        supervisors)."""
        user = _user(viewer)
        views = state.report_views
        with db.begin():
            if show == "public":
                rows = views.public(db, category=category, status=status)
            elif user is None:
                raise NotAuthenticated(N_("Log in to do this."))
            elif show == "mine":
                rows = views.mine(db, user)
            elif show == "queue":
                organisation = state.reports.config.organisation_of(db, user)
                if organisation is None:
                    raise Forbidden(
                        N_("Only an organisation's staff have a queue."), code="forbidden_role"
                    )
                rows = views.queue(db, organisation)
            else:
                if user.role not in ("supervisor", "admin"):
                    raise Forbidden(
                        N_("Only supervisors see the overdue list."), code="forbidden_role"
                    )
                rows = views.overdue(db)
            return [views.out(db, r, user) for r in rows]

    @get("/nearby", operation_id="nearbyReports", sync_to_thread=True)
    def nearby(
        self,
        category: FromQuery[str],
        lat_e6: FromQuery[Latitude],
        lon_e6: FromQuery[Longitude],
        db: DB,
        state: ReportState,
    ) -> list[Nearby]:
        """Open public reports of the category near a point, to follow instead."""
        try:
            point = Point(lat_e6, lon_e6)
        except ValueError:
            raise InvalidInput(
                N_("Latitude and longitude are in millionths of a degree, within range."),
                code="invalid_location",
                field="location",
            ) from None
        with db.begin():
            return state.report_views.nearby(db, category, point)

    @get("/statistics", operation_id="reportStatistics", sync_to_thread=True)
    def statistics(self, db: DB, state: ReportState) -> dict[str, object]:
        """The response-time figures, computed from the log (§16.5)."""
        with db.begin():
            return state.reports.statistics(db).to_json()

    @get("/{report_id:str}", operation_id="getReport", sync_to_thread=True)
    def one(
        self, report_id: FromPath[ReportId], db: DB, state: ReportState, viewer: Viewer
    ) -> ReportOut:
        """One report with its steps."""
        with db.begin():
            report = state.reports.get(db, report_id, _user(viewer))
            return state.report_views.out(db, report, _user(viewer))

    @post(
        "/{report_id:str}/photos",
        operation_id="addReportPhoto",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_login],
        request_max_body_size=UPLOAD_LIMIT,
    )
    def add_photo(
        self,
        report_id: FromPath[ReportId],
        data: Upload,
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> dict[str, str]:
        """A photo: the reporter's of the problem, or staff's proof for the answer."""
        name = keep_upload(db, data, state.report_photos.add, _user(viewer), report_id)
        return {"id": name, "url": f"/api/v1/reports/photos/{name}"}

    @post(
        "/{report_id:str}/take",
        operation_id="takeReport",
        status_code=200,
        sync_to_thread=True,
        guards=[answering],
    )
    def take(
        self, report_id: FromPath[ReportId], db: DB, state: ReportState, viewer: Viewer
    ) -> ReportOut:
        """Start work on a received report (its organisation's staff)."""
        return self._step(state, viewer, state.reports.take, report_id)

    @post(
        "/{report_id:str}/answer",
        operation_id="answerReport",
        status_code=200,
        sync_to_thread=True,
        guards=[answering],
    )
    def answer(
        self,
        report_id: FromPath[ReportId],
        data: JSONBody[AnswerIn],
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> ReportOut:
        """Answer with text and the proof photos uploaded before (its organisation's staff)."""
        return self._step(state, viewer, state.reports.answer, report_id, data.text)

    @post(
        "/{report_id:str}/rate",
        operation_id="rateReport",
        status_code=200,
        sync_to_thread=True,
        guards=[requires_login],
    )
    def rate(
        self,
        report_id: FromPath[ReportId],
        data: JSONBody[RatingIn],
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> ReportOut:
        """Rate the answer 1–5 (the reporter); below 3, with a comment, reopens it."""
        return self._step(state, viewer, state.reports.rate, report_id, data.rating, data.comment)

    @post(
        "/{report_id:str}/reassign",
        operation_id="reassignReport",
        status_code=200,
        sync_to_thread=True,
        guards=[answering],
    )
    def reassign(
        self,
        report_id: FromPath[ReportId],
        data: JSONBody[ReassignIn],
        db: DB,
        state: ReportState,
        viewer: Viewer,
    ) -> ReportOut:
        """Send the report to another organisation."""
        return self._step(state, viewer, state.reports.reassign, report_id, data.organisation)

    @post(
        "/{report_id:str}/send-back",
        operation_id="sendBackReport",
        status_code=200,
        sync_to_thread=True,
        guards=[supervising],
    )
    def send_back(
        self, report_id: FromPath[ReportId], db: DB, state: ReportState, viewer: Viewer
    ) -> ReportOut:
        """Send a reopened report back to work (supervisors)."""
        return self._step(state, viewer, state.reports.send_back, report_id)

    @post(
        "/{report_id:str}/follow",
        operation_id="followReport",
        status_code=200,
        sync_to_thread=True,
        guards=[requires_login],
    )
    def follow(
        self, report_id: FromPath[ReportId], db: DB, state: ReportState, viewer: Viewer
    ) -> dict[str, int]:
        """ "Me too": follow an open report instead of reporting it again."""
        with db.begin():
            return {"followers": state.reports.follow(db, _user(viewer), report_id)}

    @post(
        "/close-unrated",
        operation_id="closeUnratedReports",
        status_code=200,
        sync_to_thread=True,
        guards=[supervising],
    )
    def close_unrated(self, state: ReportState) -> dict[str, int]:
        """Close answers left unrated past the configured number of days."""
        return {"closed": state.reports.close_unrated()}

    def _step(
        self,
        state: ReportState,
        viewer: Viewer,
        step: Callable[..., object],
        report_id: str,
        *args: Any,
    ) -> ReportOut:
        """One step of a report's life: the report must be visible to the viewer, then the
        step runs as ``step(user, report_id, *args)``, then the report is read back."""
        user = _user(viewer)
        # A read: the step itself takes the write lock in the log's sequencer.
        with state.read_sessions() as rdb:
            state.reports.get(rdb, report_id, user)
        step(user, report_id, *args)
        return self._read_back(state, report_id, user)

    def _read_back(self, state: ReportState, report_id: str, user: Any) -> ReportOut:
        with state.read_sessions() as rdb:
            return state.report_views.out(rdb, state.reports.get(rdb, report_id, user), user)


class ReportPhotoController(Controller):
    path = "/api/v1/reports/photos"
    include_in_schema = False

    @get("/{photo_id:str}", sync_to_thread=True)
    def photo(
        self, photo_id: FromPath[str], db: DB, state: ReportState, viewer: Viewer
    ) -> Response[bytes]:
        with db.begin():
            content, content_type = state.report_photos.read(db, _user(viewer), photo_id)
        return image_response(content, content_type, cache="private, max-age=3600")


__all__ = ["ReportController", "ReportPhotoController"]
