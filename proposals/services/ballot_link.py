"""From proposals to the ballot and back: the projects of a district's election, and
what the published result does to proposals and pledges.

The voting side (``ballot/``) never imports proposals; an admin route here creates the
election draft through ``ElectionService.create`` and, once the result is published,
applies it (winners ``won``, pledges due; the rest ``lost``, pledges released).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from ballot.services.elections import ElectionService
from kernel.errors import Conflict, InvalidInput, NotFound
from proposals.core.schemas import BallotCreated, BallotRequest, ProjectEntry, ResultApplied
from proposals.services.funding import settle
from proposals.services.models import ProgramDistrict, Proposal
from proposals.services.service import ProposalService, live_totals, required_pledges


def project_id(proposal_id: int) -> str:
    return f"proposal-{proposal_id}"


def meets_rules(db: Session, service: ProposalService, proposal: Proposal) -> bool:
    """Accepted, with a validated cost, enough supports and enough live pledges."""
    assert proposal.id is not None
    program = service.program(db, proposal.program_id)
    residents, businesses = live_totals(db, proposal.id)
    return (
        proposal.status == "accepted"
        and proposal.validated_cost is not None
        and proposal.supports >= program.support_threshold
        and residents + businesses >= required_pledges(program, proposal)
    )


class BallotLink:
    def __init__(self, proposals: ProposalService, elections: ElectionService) -> None:
        self.proposals = proposals
        self.elections = elections

    def eligible(self, db: Session, program_id: int, district: str) -> list[Proposal]:
        self.proposals.program(db, program_id)
        rows = db.scalars(
            select(Proposal)
            .where(
                Proposal.program_id == program_id,
                Proposal.district == district,
                Proposal.status == "accepted",
            )
            .order_by(Proposal.id)
        ).all()
        return [p for p in rows if meets_rules(db, self.proposals, p)]

    def projects(self, db: Session, program_id: int, district: str) -> list[ProjectEntry]:
        """The projects of the district's election config, as ``ElectionConfig`` takes them."""
        return [
            ProjectEntry(
                id=project_id(p.id),  # type: ignore[arg-type]
                title=p.title,
                cost=p.validated_cost,  # type: ignore[arg-type]
                proposal=str(p.id),
            )
            for p in self.eligible(db, program_id, district)
        ]

    def create_election(self, program_id: int, data: BallotRequest) -> BallotCreated:
        """Create the district's election draft and put its proposals on the ballot."""

        def work(wdb: Session, log: BatchLog) -> BallotCreated:
            program = self.proposals.program(wdb, program_id)
            if program.phase not in {"cofunding", "voting"}:
                raise Conflict(
                    "Elections are made in the co-funding or voting phase.", code="wrong_phase"
                )
            budget = wdb.get(ProgramDistrict, (program_id, data.district))
            if budget is None:
                raise NotFound(f"The program has no district {data.district!r}.")
            chosen = self.eligible(wdb, program_id, data.district)
            if not chosen:
                raise Conflict(
                    "No proposal of this district meets the rules of the ballot.",
                    code="no_projects",
                )
            projects = [
                ProjectEntry(project_id(p.id), p.title, p.validated_cost, str(p.id))  # type: ignore[arg-type]
                for p in chosen
            ]
            config: dict[str, Any] = dict(data.election)
            for key in ("projects", "district", "budget", "currency"):
                if key in config:
                    raise InvalidInput(
                        f"The election's {key} comes from the program; leave it out.",
                        field=key,
                    )
            config.update(
                district=data.district,
                budget=budget.budget,
                currency=program.currency,
                projects=[
                    {"id": e.id, "title": e.title, "cost": e.cost, "proposal": e.proposal}
                    for e in projects
                ],
            )
            summary = self.elections.create(wdb, config)
            for proposal in chosen:
                proposal.election_id = summary.id
                self.proposals.move(wdb, log, proposal, "on_ballot", "admin")
            return BallotCreated(election=summary.id, projects=projects)

        return self.proposals.sequencer.run(work).result

    def apply_result(self, program_id: int, election_id: str, winners: list[str]) -> ResultApplied:
        """Winners (project ids) become ``won`` with pledges due; the rest ``lost``, released."""

        def work(wdb: Session, log: BatchLog) -> ResultApplied:
            self.proposals.program(wdb, program_id)
            rows = wdb.scalars(
                select(Proposal)
                .where(
                    Proposal.program_id == program_id,
                    Proposal.election_id == election_id,
                    Proposal.status == "on_ballot",
                )
                .order_by(Proposal.id)
            ).all()
            if not rows:
                raise Conflict(
                    "No proposal of this program is on this election's ballot.",
                    code="nothing_on_ballot",
                )
            won: list[int] = []
            lost: list[int] = []
            now = self.proposals.now()
            for proposal in rows:
                assert proposal.id is not None
                if project_id(proposal.id) in winners:
                    self.proposals.move(wdb, log, proposal, "won", "admin")
                    settle(wdb, log, proposal, "due", now)
                    won.append(proposal.id)
                else:
                    self.proposals.move(wdb, log, proposal, "lost", "admin")
                    settle(wdb, log, proposal, "released", now)
                    lost.append(proposal.id)
            return ResultApplied(election=election_id, won=won, lost=lost)

        return self.proposals.sequencer.run(work).result
