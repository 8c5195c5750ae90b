"""Implementation of winning projects: milestones with progress and photos, and the
residents' 1–5 ratings of a completed project (once each)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from kernel.accounts.models import User
from kernel.accounts.service import require_confirmed_email
from kernel.errors import Conflict, NotFound
from kernel.markers import N_
from proposals.core import kinds
from proposals.core.schemas import Implementation, MilestoneCreate, MilestoneOut, RatingCreate
from proposals.services.models import Image, Milestone, Proposal, Rating, StatusChange
from proposals.services.service import ProposalService

STAGE_ORDER = ("planned", "contracted", "in_progress", "completed")


class ImplementationService:
    def __init__(self, proposals: ProposalService) -> None:
        self.proposals = proposals
        self.sequencer = proposals.sequencer

    def milestones(self, db: Session, proposal_id: int) -> list[MilestoneOut]:
        rows = db.scalars(
            select(Milestone).where(Milestone.proposal_id == proposal_id).order_by(Milestone.id)
        ).all()
        out = []
        for m in rows:
            photos = db.scalars(
                select(Image.id).where(Image.milestone_id == m.id).order_by(Image.created_at)
            ).all()
            out.append(
                MilestoneOut(
                    id=m.id,  # type: ignore[arg-type]
                    stage=m.stage,
                    percent=m.percent,
                    date=m.date,
                    note=m.note,
                    photos=[f"/uploads/{p}" for p in photos],
                )
            )
        return out

    def summary(self, db: Session, proposal_id: int, viewer: User | None) -> Implementation:
        proposal = self.proposals.get(db, proposal_id, viewer)
        count, total = db.execute(
            select(func.count(), func.coalesce(func.sum(Rating.stars), 0)).where(
                Rating.proposal_id == proposal_id
            )
        ).one()
        changes = {
            r.to_status: r.at
            for r in db.scalars(
                select(StatusChange).where(StatusChange.proposal_id == proposal_id)
            ).all()
        }
        days = None
        if "won" in changes and "completed" in changes:
            days = (changes["completed"] - changes["won"]) // 86400
        return Implementation(
            proposal=proposal_id,
            status=proposal.status,
            milestones=self.milestones(db, proposal_id),
            ratings=int(count),
            average_x100=(int(total) * 100 // int(count)) if count else None,
            days_to_complete=days,
        )

    def report(self, proposal_id: int, data: MilestoneCreate) -> MilestoneOut:
        """Add a milestone; the first started one moves a winner into implementation,
        a completed one completes it."""

        def work(wdb: Session, log: BatchLog) -> MilestoneOut:
            proposal = wdb.get(Proposal, proposal_id, with_for_update=True)
            if proposal is None or proposal.status == "draft":
                raise NotFound(f"There is no proposal {proposal_id}.")
            if proposal.status not in {"won", "in_implementation"}:
                raise Conflict(
                    N_("Only winning projects carry implementation milestones."),
                    code="not_a_winner",
                )
            percent = 100 if data.stage == "completed" else data.percent
            milestone = Milestone(
                proposal_id=proposal_id,
                stage=data.stage,
                percent=percent,
                date=data.date,
                note=data.note.strip(),
                created_at=self.proposals.now(),
            )
            wdb.add(milestone)
            wdb.flush()
            assert milestone.id is not None
            log.append(
                kinds.MILESTONE_REPORTED,
                {
                    "proposal": proposal_id,
                    "milestone": milestone.id,
                    "stage": data.stage,
                    "percent": percent,
                    "date": data.date,
                    "photos": [],
                },
            )
            if proposal.status == "won" and data.stage != "planned":
                self.proposals.move(wdb, log, proposal, "in_implementation", "system")
            if data.stage == "completed":
                self.proposals.move(wdb, log, proposal, "completed", "system")
            return MilestoneOut(milestone.id, data.stage, percent, data.date, milestone.note, [])

        return self.sequencer.run(work).result

    def rate(self, user: User, proposal_id: int, data: RatingCreate) -> Implementation:
        require_confirmed_email(user)

        def work(wdb: Session, log: BatchLog) -> None:
            proposal = wdb.get(Proposal, proposal_id)
            if proposal is None or proposal.status == "draft":
                raise NotFound(f"There is no proposal {proposal_id}.")
            if proposal.status != "completed":
                raise Conflict(N_("Only completed projects can be rated."), code="not_completed")
            existing = wdb.scalars(
                select(Rating).where(Rating.proposal_id == proposal_id, Rating.user_id == user.id)
            ).first()
            if existing is not None:
                raise Conflict(N_("You have already rated this project."), code="already_rated")
            wdb.add(
                Rating(
                    proposal_id=proposal_id,
                    user_id=user.id,  # type: ignore[arg-type]
                    stars=data.stars,
                    at=self.proposals.now(),
                )
            )
            try:
                wdb.flush()
            except IntegrityError:
                raise Conflict(
                    N_("You have already rated this project."), code="already_rated"
                ) from None
            log.append(
                kinds.PROJECT_RATED,
                {"proposal": proposal_id, "rater": user.public_id, "stars": data.stars},
            )

        self.sequencer.run(work)
        with self.proposals.sequencer.store.read_sessions() as db:
            return self.summary(db, proposal_id, user)
