"""The back office's step after a count (docs/protocol.md §18.3): a programme's
elections with their results, and applying a published result to the proposals (won or
lost) and their pledges (due or released) in one step, after a confirmation that lists
what will happen. The page calls ``BallotLink.apply_result``, which reads the winners
from the signed log entry (§9.9), as the API does."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.amounts import format_roubles
from kernel.errors import Conflict
from kernel.markers import N_
from kernel.web import DB, Viewer, render, requires_role
from proposals.core.display import STATUS_NAMES
from proposals.http.state import ProposalState
from proposals.services.ballot_link import project_id
from proposals.services.models import Pledge, Proposal

admin = requires_role("admin")


def _pledges(db: Session, proposal_id: int) -> tuple[int, int]:
    """The count and total of a proposal's live pledges."""
    count, total = db.execute(
        select(func.count(), func.coalesce(func.sum(Pledge.amount), 0)).where(
            Pledge.proposal_id == proposal_id, Pledge.status == "live"
        )
    ).one()
    return int(count), int(total)


def _proposals(db: Session, program_id: int, election_id: str) -> list[Proposal]:
    return list(
        db.scalars(
            select(Proposal)
            .where(Proposal.program_id == program_id, Proposal.election_id == election_id)
            .order_by(Proposal.id)
        ).all()
    )


def election_rows(db: Session, state: ProposalState, program_id: int) -> list[dict[str, Any]]:
    """The programme's elections: status, whether a result is published, whether it has
    been applied, and the proposals on each ballot."""
    ids = db.scalars(
        select(Proposal.election_id)
        .where(Proposal.program_id == program_id, Proposal.election_id.is_not(None))  # type: ignore[union-attr]
        .distinct()
    ).all()
    rows = []
    for election_id in sorted(i for i in ids if i):
        election = state.elections.get(db, election_id)
        proposals = _proposals(db, program_id, election_id)
        published = state.results.logged_result(db, election) is not None
        pending = any(p.status == "on_ballot" for p in proposals)
        rows.append(
            {
                "id": election_id,
                "title": election.title,
                "district": election.district,
                "status": election.status,
                "published": published,
                "pending": pending,
                "proposals": proposals,
            }
        )
    return rows


class ResultOfficePages(Controller):
    include_in_schema = False
    guards = [admin]  # noqa: RUF012 - Litestar reads a plain list
    path = "/office/programs/{program_id:int}/elections/{election_id:str}/apply"

    @get("/", sync_to_thread=True)
    def confirm(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        election_id: FromPath[str],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        with db.begin():
            program = state.proposals.program(db, program_id)
            election = state.elections.get(db, election_id)
            winners = set(state.results.published(db, election_id).winners)
            rows = []
            for proposal in _proposals(db, program_id, election_id):
                if proposal.status != "on_ballot":
                    continue
                assert proposal.id is not None
                count, total = _pledges(db, proposal.id)
                won = project_id(proposal.id) in winners
                rows.append({"p": proposal, "won": won, "pledges": count, "total": total})
        if not rows:
            raise Conflict(
                N_("No proposal of this programme awaits this election's result."),
                code="nothing_on_ballot",
            )
        return render(
            request,
            "office/confirm_apply.html",
            {
                "program": program,
                "election": election,
                "rows": rows,
                "due": sum(r["total"] for r in rows if r["won"]),
                "released": sum(r["total"] for r in rows if not r["won"]),
                "roubles": format_roubles,
                "STATUS_NAMES": STATUS_NAMES,
            },
            viewer=viewer,
        )

    @post("/", sync_to_thread=True)
    def apply(
        self, program_id: FromPath[int], election_id: FromPath[str], state: ProposalState
    ) -> Response[Any]:
        state.ballot_link.apply_result(program_id, election_id)
        return Redirect(
            f"/office/programs/{program_id}?applied={election_id}#elections", status_code=303
        )
