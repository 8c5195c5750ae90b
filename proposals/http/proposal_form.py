"""The form that proposes a project: offered only while the programme takes proposals,
and a refusal (a field, the phase, a limit) shows the form again with everything typed
kept and the reason next to it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import URLEncodedBody
from sqlalchemy.orm import Session

from kernel.errors import DomainError, NotFound, TooManyRequests
from kernel.markers import N_
from kernel.web import DB, Viewer, render, requires_role
from proposals.core.display import field, helpers, parse_degrees, parse_money
from proposals.http.pages import back
from proposals.http.program_pages import district_names, find_program, timeline
from proposals.http.state import ProposalState
from proposals.services.service import ProposalService

Form = URLEncodedBody[dict[str, Any]]
resident = requires_role("resident")


class ProposalFormPages(Controller):
    include_in_schema = False

    def _program(self, db: Session, state: ProposalState, wanted: str | None) -> Any:
        return find_program(db, state, wanted)

    @get("/proposals/new", guards=[resident], sync_to_thread=True)
    def new_form(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            program, _programs = self._program(db, state, request.query_params.get("program"))
            names = district_names(db)
        if program is None:
            raise NotFound(N_("There is no budgeting program yet."))
        closed = program.phase != "submission"
        return render(
            request,
            "proposals/new.html",
            {
                "program": program,
                "form": {},
                "errors": {},
                "closed": closed,
                "timeline": timeline(program),
                "district_names": names,
                **helpers(),
            },
            viewer=viewer,
            status_code=409 if closed else 200,
        )

    @post("/proposals/new", guards=[resident], sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        assert viewer is not None
        service: ProposalService = state.proposals
        names = ("program", "title", "summary", "description", "category", "district")
        form = {k: field(data, k) for k in (*names, "cost", "latitude", "longitude")}
        errors: dict[str, str] = {}
        cost = parse_money(form["cost"])
        if cost is None:
            errors["cost"] = N_("Enter the cost as a positive amount, like 150000 or 1500,50.")
        lat = parse_degrees(form["latitude"], 90)
        lon = parse_degrees(form["longitude"], 180)
        if lat == "bad" or lon == "bad":
            errors["location"] = N_("Enter the latitude and longitude as decimal degrees.")
        for name, limit in (("title", 200), ("summary", 500), ("description", 10000)):
            if len(form[name]) > limit:
                errors[name] = N_("This text is too long.")
        with db.begin():
            program, _programs = self._program(db, state, form["program"])
            if program is None:
                raise NotFound(N_("There is no budgeting program yet."))
            fields = {**form, "lat_e6": lat, "lon_e6": lon}
            row = service.program(db, program.id)
            for key, message in service.validate(db, row, fields).items():
                errors.setdefault(key, message)
            names = district_names(db)
            refused = None
            if not errors and program.phase != "submission" and field(data, "action") == "submit":
                refused = N_("The program does not accept proposals now.")
            if errors or refused:
                return render(
                    request,
                    "proposals/new.html",
                    {
                        "program": program,
                        "form": form,
                        "errors": errors,
                        "refused": refused,
                        "district_names": names,
                        **helpers(),
                    },
                    viewer=viewer,
                    status_code=409 if refused else 400,
                )
            from proposals.core.schemas import ProposalCreate

            created = self._create(
                service,
                db,
                viewer.user,
                ProposalCreate(
                    program=program.id,
                    title=form["title"],
                    summary=form["summary"],
                    description=form["description"],
                    category=form["category"],
                    district=form["district"],
                    cost=cost,  # type: ignore[arg-type]
                    lat_e6=lat,  # type: ignore[arg-type]
                    lon_e6=lon,  # type: ignore[arg-type]
                ),
            )
        if isinstance(created, DomainError):
            page = render(
                request,
                "proposals/new.html",
                {
                    "program": program,
                    "form": form,
                    "errors": {},
                    "refused": created.detail,
                    "district_names": names,
                    **helpers(),
                },
                viewer=viewer,
                status_code=type(created).status,
            )
            if isinstance(created, TooManyRequests):
                page.headers["Retry-After"] = str(created.retry_after)
            return page
        if field(data, "action") == "submit":
            try:
                service.submit(viewer.user, created.id)
            except DomainError as exc:
                with db.begin():
                    names = district_names(db)
                return render(
                    request,
                    "proposals/new.html",
                    {
                        "program": program,
                        "form": form,
                        "errors": {},
                        "refused": exc.detail,
                        "saved": created.id,
                        "district_names": names,
                        **helpers(),
                    },
                    viewer=viewer,
                    status_code=type(exc).status,
                )
        return back(created.id)

    @staticmethod
    def _create(service: ProposalService, db: Session, user: Any, data: Any) -> Any:
        """The new draft, or the refusal (a limit reached, say) to show on the form."""
        try:
            return service.create(db, user, data)
        except DomainError as exc:
            return exc
