"""From proposals to the ballot and back: the projects of a district's election, and
what the published result does to proposals and pledges.

The voting side (``ballot/``) never imports proposals; an admin route here creates the
election draft through ``ElectionService.create`` and, once the result is published,
applies it (winners ``won``, pledges due; the rest ``lost``, pledges released).

Applying a result reads it from the log (docs/protocol.md §9.9): the winners are those of
the signed ``result.published`` entry, and the projects are those of the election's
logged manifest, never the ``election`` row's columns; a proposal on the ballot that the
logged manifest does not name is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from ballot.services.elections import ElectionService
from ballot.services.results import ResultService
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
    def __init__(
        self, proposals: ProposalService, elections: ElectionService, results: ResultService
    ) -> None:
        self.proposals = proposals
        self.elections = elections
        self.results = results

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
            if data.proposals is not None:
                picked = set(data.proposals)
                unknown = sorted(picked - {p.id for p in chosen})
                if unknown:
                    raise InvalidInput(
                        "These proposals cannot go on this district's ballot (not accepted, "
                        f"or short of supports or pledges): {', '.join(map(str, unknown))}.",
                        field="proposals",
                    )
                chosen = [p for p in chosen if p.id in picked]
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

    def apply_result(self, program_id: int, election_id: str) -> ResultApplied:
        """Apply the election's published result as the log holds it: the winners of its
        signed ``result.published`` entry become ``won`` with pledges due, the other
        projects of its logged manifest ``lost``, released."""
        with self.elections.store.read_sessions() as db:
            logged = self.results.published(db, election_id)
        projects = {p.id for p in logged.election.manifest.projects}
        return self.apply_winners(program_id, election_id, logged.winners, projects=projects)

    def apply_winners(
        self,
        program_id: int,
        election_id: str,
        winners: list[str],
        *,
        projects: set[str] | None = None,
    ) -> ResultApplied:
        """Winners (project ids) become ``won`` with pledges due; the rest ``lost``, released.

        Unchecked: the caller vouches for ``winners``. Only ``apply_result`` (which reads
        them from the log) serves requests; this step alone is for staged data (the demo,
        tests). With ``projects``, every proposal on the ballot must be one of them."""

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
            if projects is not None:
                stray = [p.id for p in rows if project_id(p.id) not in projects]  # type: ignore[arg-type]
                if stray:
                    raise Conflict(
                        f"Proposal {stray[0]} is on this ballot but not in the election's "
                        "logged manifest; the result cannot be applied to it.",
                        code="not_on_manifest",
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
