"""Proposal pages: the list with filters and a map, a proposal with its history, support
and co-funding, "my proposals" and the implementation page. Forms post to these pages
and work without JavaScript; the map only adds a way to choose the point. The form that
proposes a project is in ``proposal_form.py``, the staff's forms in ``staff_pages.py``,
the programmes' pages in ``program_pages.py``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.orm import Session

from kernel.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
)
from kernel.markers import N_
from kernel.web import DB, UPLOAD_LIMIT, Upload, Viewer, keep_upload, render, requires_role
from proposals.core.display import field, helpers, map_points, parse_money
from proposals.core.schemas import PledgeCreate, RatingCreate
from proposals.http.program_pages import district_names, find_program, funding_shown, timeline
from proposals.http.state import ProposalState
from proposals.services.service import ProposalService, cofunding, program_out

Form = URLEncodedBody[dict[str, Any]]
resident = requires_role("resident")


def back(proposal_id: int, anchor: str = "") -> Response[Any]:
    return Redirect(f"/proposals/{proposal_id}{anchor}", status_code=303)


def proposal_or_404(service: ProposalService, db: Session, proposal_id: int, user: Any) -> Any:
    """The proposal a page shows; a translatable sentence when there is none to show."""
    try:
        return service.get(db, proposal_id, user)
    except NotFound:
        raise NotFound(N_("There is no such proposal."), code="no_such_proposal") from None


class ProposalPages(Controller):
    include_in_schema = False

    def _program(self, db: Session, state: ProposalState, wanted: str | None) -> Any:
        return find_program(db, state, wanted)

    @get("/proposals", sync_to_thread=True)
    def list_page(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        query = request.query_params
        filters = {k: query.get(k) or "" for k in ("district", "category", "status")}
        with db.begin():
            program, programs = self._program(db, state, query.get("program"))
            rows = []
            if program is not None:
                rows = state.proposals.search(
                    db,
                    program=program.id,
                    **{k: v or None for k, v in filters.items()},
                )
            names = district_names(db)
        return render(
            request,
            "proposals/list.html",
            {
                "program": program,
                "programs": programs,
                "timeline": timeline(program) if program is not None else [],
                "district_names": names,
                "rows": rows,
                "filters": filters,
                "points": map_points(rows),
                **helpers(),
            },
            viewer=viewer,
        )

    @get("/proposals/mine", guards=[requires_role()], sync_to_thread=True)
    def mine(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        assert viewer is not None
        with db.begin():
            rows = state.proposals.search(db, author=viewer.user)
            businesses = state.pledges.businesses(db, viewer.user)
            phases = {p.id: p.phase for p in state.proposals.list_programs(db)}
        return render(
            request,
            "proposals/mine.html",
            {
                "rows": rows,
                "phases": phases,
                "businesses": businesses,
                "errors": {},
                "form": {},
                **helpers(),
            },
            viewer=viewer,
        )

    @post("/proposals/businesses", guards=[resident], sync_to_thread=True)
    def register_business(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        assert viewer is not None
        from proposals.core.schemas import BusinessCreate

        form = {"name": field(data, "name")[:200], "inn": field(data, "inn")[:12]}
        errors: dict[str, str] = {}
        with db.begin():
            try:
                state.pledges.register_business(db, viewer.user, BusinessCreate(**form))
            except DomainError as exc:
                errors[getattr(exc, "field", None) or "inn"] = exc.detail
            rows = state.proposals.search(db, author=viewer.user)
            businesses = state.pledges.businesses(db, viewer.user)
            phases = {p.id: p.phase for p in state.proposals.list_programs(db)}
        if not errors:
            return Redirect("/proposals/mine#businesses", status_code=303)
        return render(
            request,
            "proposals/mine.html",
            {
                "rows": rows,
                "phases": phases,
                "businesses": businesses,
                "errors": errors,
                "form": form,
                **helpers(),
            },
            viewer=viewer,
            status_code=400,
        )

    @get("/proposals/{proposal_id:int}", sync_to_thread=True)
    def detail(
        self,
        request: Request[Any, Any, Any],
        proposal_id: FromPath[int],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        return self._detail(request, proposal_id, db, state, viewer)

    @staticmethod
    def _detail(
        request: Request[Any, Any, Any],
        proposal_id: int,
        db: Session,
        state: ProposalState,
        viewer: Any,
        *,
        pledge_form: dict[str, str] | None = None,
        pledge_error: str | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        """The proposal's page; after a refused pledge, with what was typed and why."""
        service: ProposalService = state.proposals
        user = viewer.user if viewer else None
        with db.begin():
            proposal = proposal_or_404(service, db, proposal_id, user)
            out = service.out(db, proposal, user)
            program = program_out(db, service.program(db, proposal.program_id))
            history = service.history(db, proposal_id)
            pledges = state.pledges.pledges(db, proposal_id, user)
            businesses = state.pledges.businesses(db, user) if user else []
            names = district_names(db)
            supported = False
            if user is not None:
                from proposals.services.models import Support

                supported = db.get(Support, (proposal_id, user.id)) is not None
        return render(
            request,
            "proposals/detail.html",
            {
                "p": out,
                "program": program,
                "history": history,
                "pledges": pledges,
                "funding": funding_shown(pledges, out.cofunding.required, out.cofunding.open),
                "district_names": names,
                "businesses": businesses,
                "supported": supported,
                "is_author": user is not None and user.public_id == out.author,
                "points": map_points([out]),
                "pledge_form": pledge_form or {},
                "pledge_error": pledge_error,
                **helpers(),
            },
            viewer=viewer,
            status_code=status_code,
        )

    @post("/proposals/{proposal_id:int}/submit", guards=[resident], sync_to_thread=True)
    def submit(
        self, proposal_id: FromPath[int], state: ProposalState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        state.proposals.submit(viewer.user, proposal_id)
        return back(proposal_id)

    @post(
        "/proposals/{proposal_id:int}/images",
        guards=[resident],
        sync_to_thread=True,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def add_image(
        self, proposal_id: FromPath[int], data: Upload, db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        keep_upload(db, data, state.uploads.add_image, viewer.user, proposal_id)
        return back(proposal_id)

    @post("/proposals/{proposal_id:int}/support", guards=[resident], sync_to_thread=True)
    def support(
        self, proposal_id: FromPath[int], state: ProposalState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        state.proposals.support(viewer.user, proposal_id)
        return back(proposal_id, "#support")

    @post("/proposals/{proposal_id:int}/pledge", guards=[resident], sync_to_thread=True)
    def pledge(
        self,
        request: Request[Any, Any, Any],
        proposal_id: FromPath[int],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        assert viewer is not None
        typed = {"amount": field(data, "amount")[:40], "business": field(data, "business")[:20]}
        amount = parse_money(typed["amount"])
        business = typed["business"]
        problem: DomainError | None = None
        if amount is None:
            problem = InvalidInput(N_("Enter the amount as a positive sum, like 5000 or 1500,50."))
        else:
            pledge = PledgeCreate(
                amount=amount, business=int(business) if business.isdigit() else None
            )
            try:
                state.pledges.pledge(viewer.user, proposal_id, pledge)
            except (Conflict, InvalidInput, Forbidden) as exc:
                problem = exc
        if problem is None:
            return back(proposal_id, "#cofunding")
        # The page again, with the amount kept and the reason next to the form.
        return self._detail(
            request,
            proposal_id,
            db,
            state,
            viewer,
            pledge_form=typed,
            pledge_error=problem.detail,
            status_code=type(problem).status,
        )

    @post(
        "/proposals/{proposal_id:int}/pledges/{pledge_id:int}/withdraw",
        guards=[resident],
        sync_to_thread=True,
    )
    def withdraw(
        self,
        proposal_id: FromPath[int],
        pledge_id: FromPath[int],
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        assert viewer is not None
        state.pledges.withdraw(viewer.user, proposal_id, pledge_id)
        return back(proposal_id, "#cofunding")

    @get("/proposals/{proposal_id:int}/implementation", sync_to_thread=True)
    def implementation(
        self,
        request: Request[Any, Any, Any],
        proposal_id: FromPath[int],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        user = viewer.user if viewer else None
        with db.begin():
            proposal = proposal_or_404(state.proposals, db, proposal_id, user)
            summary = state.implementation.summary(db, proposal_id, user)
            from sqlalchemy import select

            from proposals.services.models import Rating

            rated = user is not None and (
                db.scalars(
                    select(Rating).where(
                        Rating.proposal_id == proposal_id, Rating.user_id == user.id
                    )
                ).first()
                is not None
            )
            program = state.proposals.program(db, proposal.program_id)
            live = cofunding(db, program, proposal, state.proposals.now())
            shown = state.pledges.pledges(db, proposal_id, user)
            funding = funding_shown(shown, live.required, live.open)
        return render(
            request,
            "proposals/implementation.html",
            {"p": proposal, "impl": summary, "rated": rated, "funding": funding, **helpers()},
            viewer=viewer,
        )

    @post("/proposals/{proposal_id:int}/rate", guards=[resident], sync_to_thread=True)
    def rate(
        self, proposal_id: FromPath[int], data: Form, state: ProposalState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        stars = field(data, "stars")
        if stars not in {"1", "2", "3", "4", "5"}:
            raise InvalidInput(N_("Choose from 1 to 5 stars."))
        state.implementation.rate(viewer.user, proposal_id, RatingCreate(stars=int(stars)))
        return Redirect(f"/proposals/{proposal_id}/implementation", status_code=303)
