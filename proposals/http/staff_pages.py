"""The staff's forms on proposals: the moderation queue and its reviews, milestones of
the work and their photos."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from kernel.errors import InvalidInput
from kernel.markers import N_
from kernel.web import DB, UPLOAD_LIMIT, Upload, Viewer, read_upload, render, requires_role
from proposals.core.display import field, helpers, parse_money
from proposals.core.schemas import MilestoneCreate, Review
from proposals.http.pages import back
from proposals.http.program_pages import district_names
from proposals.http.state import ProposalState

Form = URLEncodedBody[dict[str, Any]]
moderator = requires_role("moderator")
staff = requires_role("admin", "moderator")


class ProposalStaffPages(Controller):
    include_in_schema = False

    @post(
        "/proposals/{proposal_id:int}/milestones/{milestone_id:int}/photos",
        guards=[staff],
        sync_to_thread=True,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def add_photo(
        self,
        proposal_id: FromPath[int],
        milestone_id: FromPath[int],
        data: Upload,
        state: ProposalState,
    ) -> Response[Any]:
        state.uploads.add_photo(proposal_id, milestone_id, read_upload(data))
        return Redirect(f"/proposals/{proposal_id}/implementation", status_code=303)

    @post("/proposals/{proposal_id:int}/review", guards=[staff], sync_to_thread=True)
    def review(
        self, proposal_id: FromPath[int], data: Form, state: ProposalState, viewer: Viewer
    ) -> Response[Any]:
        assert viewer is not None
        decision = field(data, "decision")
        cost = parse_money(field(data, "validated_cost")) if decision == "accept" else None
        try:
            review = Review(
                decision=decision,  # type: ignore[arg-type]
                validated_cost=cost,
                reason=field(data, "reason")[:2000],
            )
            review = msgspec.convert(msgspec.to_builtins(review), Review)
        except (msgspec.ValidationError, TypeError):
            raise InvalidInput(N_("Choose a decision.")) from None
        state.proposals.review(viewer.user, proposal_id, review)
        target = field(data, "next")
        if target == "/moderation":
            return Redirect("/moderation", status_code=303)
        return back(proposal_id)

    @get("/moderation", guards=[staff], sync_to_thread=True)
    def moderation(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            rows = state.proposals.search(db, status="in_review")
            names = district_names(db)
        return render(
            request,
            "proposals/moderation.html",
            {"rows": rows, "district_names": names, **helpers()},
            viewer=viewer,
        )

    @post("/proposals/{proposal_id:int}/milestones", guards=[staff], sync_to_thread=True)
    def milestone(
        self, proposal_id: FromPath[int], data: Form, state: ProposalState
    ) -> Response[Any]:
        try:
            step = msgspec.convert(
                {
                    "stage": field(data, "stage"),
                    "percent": int(field(data, "percent") or 0),
                    "date": field(data, "date"),
                    "note": field(data, "note")[:2000],
                },
                MilestoneCreate,
            )
        except (msgspec.ValidationError, ValueError):
            raise InvalidInput(
                N_("Fill in the stage, the date and a percentage from 0 to 100.")
            ) from None
        state.implementation.report(proposal_id, step)
        return Redirect(f"/proposals/{proposal_id}/implementation", status_code=303)
