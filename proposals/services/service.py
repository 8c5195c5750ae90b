"""Programs and proposals: creating, editing, submitting, supporting, reviewing, and the
road to the ballot.

Every change that the public must be able to check runs as one work item of the log's
sequencer (``audit.store``), so the row and its entry commit together; the checks are
repeated inside the work item, on the rows it is about to change. Status changes go only
through ``ProposalService.move``, which asks the pure table in ``proposals.lifecycle``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog
from kernel.accounts.models import User
from kernel.accounts.service import require_confirmed_email
from kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from kernel.limits import account_subject, take
from kernel.markers import N_
from kernel.settings import Settings
from proposals.core import kinds
from proposals.core.errors import illegal
from proposals.core.lifecycle import (
    SUPPORTABLE,
    Actor,
    IllegalTransition,
    allowed_next,
    check_transition,
)
from proposals.core.schemas import (
    ProposalCreate,
    ProposalOut,
    ProposalUpdate,
    Review,
    StatusChangeOut,
)
from proposals.services.funding import (
    CONTENT_DOMAIN,
    PLEDGE_PHASES,
    cofunding,
    content_hash,
    live_totals,
    pledging_open,
    program_out,
    release_all,
    required_pledges,
    status_body,
)
from proposals.services.limits import ProposalLimits
from proposals.services.models import (
    Image,
    Program,
    ProgramDistrict,
    Proposal,
    StatusChange,
    Support,
)
from proposals.services.programs import Programs

# Re-exported: other modules of the package take these from here.
__all__ = [
    "CONTENT_DOMAIN",
    "PLEDGE_PHASES",
    "ProposalService",
    "cofunding",
    "content_hash",
    "live_totals",
    "pledging_open",
    "program_out",
    "required_pledges",
    "status_body",
]


class ProposalService(Programs):
    def __init__(
        self,
        sequencer: Sequencer,
        clock: Callable[[], float] = time.time,
        *,
        limits: ProposalLimits | None = None,
    ) -> None:
        self.sequencer = sequencer
        self.clock = clock
        self.limits = limits or ProposalLimits.from_settings(Settings())

    def now(self) -> int:
        return int(self.clock())

    # --- reading proposals --------------------------------------------------------------
    def get(self, db: Session, proposal_id: int, viewer: User | None) -> Proposal:
        proposal = db.get(Proposal, proposal_id)
        if proposal is None or (
            proposal.status == "draft" and (viewer is None or viewer.id != proposal.author_id)
        ):
            raise NotFound(f"There is no proposal {proposal_id}.")
        return proposal

    def out(self, db: Session, p: Proposal, viewer: User | None = None) -> ProposalOut:
        assert p.id is not None
        program = self.program(db, p.program_id)
        author = db.get(User, p.author_id)
        assert author is not None
        images = db.scalars(
            select(Image.id).where(Image.proposal_id == p.id, Image.milestone_id.is_(None))  # type: ignore[union-attr]
        ).all()
        return ProposalOut(
            id=p.id,
            program=p.program_id,
            author=author.public_id,
            title=p.title,
            summary=p.summary,
            description=p.description,
            category=p.category,
            district=p.district,
            cost=p.cost,
            validated_cost=p.validated_cost,
            lat_e6=p.lat_e6,
            lon_e6=p.lon_e6,
            status=p.status,  # type: ignore[arg-type]
            reason=p.reason,
            election=p.election_id,
            supports=p.supports,
            cofunding=cofunding(db, program, p, self.now()),
            allowed_next=list(allowed_next(p.status)),
            images=[f"/uploads/{i}" for i in images],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )

    def search(
        self,
        db: Session,
        *,
        program: int | None = None,
        district: str | None = None,
        category: str | None = None,
        status: str | None = None,
        author: User | None = None,
        limit: int = 500,
    ) -> list[Proposal]:
        query = select(Proposal)
        if author is not None:
            query = query.where(Proposal.author_id == author.id)
        else:
            query = query.where(Proposal.status != "draft")
        if program is not None:
            query = query.where(Proposal.program_id == program)
        if district:
            query = query.where(Proposal.district == district)
        if category:
            query = query.where(Proposal.category == category)
        if status:
            query = query.where(Proposal.status == status)
        return list(db.scalars(query.order_by(Proposal.id.desc()).limit(limit)).all())  # type: ignore[union-attr]

    def history(self, db: Session, proposal_id: int) -> list[StatusChangeOut]:
        rows = db.scalars(
            select(StatusChange)
            .where(StatusChange.proposal_id == proposal_id)
            .order_by(StatusChange.seq)
        ).all()
        return [StatusChangeOut(r.from_status, r.to_status, r.reason, r.seq, r.at) for r in rows]

    # --- drafts --------------------------------------------------------------------------
    def validate(self, db: Session, program: Program, fields: dict[str, Any]) -> dict[str, str]:
        """Field → message for every problem of a proposal's content."""
        problems: dict[str, str] = {}
        for name in ("title", "summary"):
            if not str(fields.get(name) or "").strip():
                problems[name] = N_("This field is required.")
        if fields.get("category") not in program.categories:
            problems["category"] = N_("Choose one of the program's categories.")
        districts = set(
            db.scalars(
                select(ProgramDistrict.district).where(ProgramDistrict.program_id == program.id)
            ).all()
        )
        if fields.get("district") not in districts:
            problems["district"] = N_("Choose one of the program's districts.")
        if (fields.get("lat_e6") is None) != (fields.get("lon_e6") is None):
            problems["location"] = N_("Give both latitude and longitude, or neither.")
        return problems

    def create(self, db: Session, author: User, data: ProposalCreate) -> ProposalOut:
        take(db, self.limits.drafts, account_subject(author.id), now=self.now())
        program = self.program(db, data.program)
        fields = {f: getattr(data, f) for f in data.__struct_fields__}
        problems = self.validate(db, program, fields)
        if problems:
            field, message = next(iter(problems.items()))
            raise InvalidInput(message, code=f"invalid_{field}", field=field)
        now = self.now()
        proposal = Proposal(
            program_id=program.id,  # type: ignore[arg-type]
            author_id=author.id,  # type: ignore[arg-type]
            title=data.title.strip(),
            summary=data.summary.strip(),
            description=data.description.strip(),
            category=data.category,
            district=data.district,
            cost=data.cost,
            lat_e6=data.lat_e6,
            lon_e6=data.lon_e6,
            created_at=now,
            updated_at=now,
        )
        db.add(proposal)
        db.flush()
        return self.out(db, proposal, author)

    def update(
        self, db: Session, author: User, proposal_id: int, data: ProposalUpdate
    ) -> ProposalOut:
        proposal = self.get(db, proposal_id, author)
        if proposal.author_id != author.id:
            raise Forbidden("Only the author edits a proposal.", code="not_author")
        if proposal.status != "draft":
            raise Conflict(
                f"Only drafts can be edited; this proposal is {proposal.status}.",
                code="not_a_draft",
            )
        changes = {
            f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not None
        }
        fields = {
            f: getattr(proposal, f) for f in ProposalCreate.__struct_fields__ if f != "program"
        }
        fields.update(changes)
        problems = self.validate(db, self.program(db, proposal.program_id), fields)
        if problems:
            field, message = next(iter(problems.items()))
            raise InvalidInput(message, code=f"invalid_{field}", field=field)
        for name, value in changes.items():
            setattr(proposal, name, value.strip() if isinstance(value, str) else value)
        proposal.updated_at = self.now()
        db.flush()
        return self.out(db, proposal, author)

    # --- transitions -----------------------------------------------------------------------
    def move(
        self, wdb: Session, log: BatchLog, proposal: Proposal, target: str, actor: Actor
    ) -> None:
        """The one place a proposal's status changes: checked, recorded, logged."""
        try:
            check_transition(proposal.status, target, actor)
        except IllegalTransition as exc:
            raise illegal(exc) from None
        source = proposal.status
        proposal.status = target
        proposal.updated_at = self.now()
        author = wdb.get(User, proposal.author_id)
        assert author is not None and proposal.id is not None
        appended = log.append(kinds.PROPOSAL_STATUS, status_body(proposal, author, source, target))
        wdb.add(
            StatusChange(
                proposal_id=proposal.id,
                from_status=source,
                to_status=target,
                reason=proposal.reason if target == "rejected" else None,
                seq=appended.seq,
                at=self.now(),
            )
        )
        wdb.flush()

    def _locked(self, wdb: Session, proposal_id: int) -> Proposal:
        proposal = wdb.get(Proposal, proposal_id, with_for_update=True)
        if proposal is None:
            raise NotFound(f"There is no proposal {proposal_id}.")
        return proposal

    def _reach_review(
        self, wdb: Session, log: BatchLog, proposal: Proposal, program: Program
    ) -> None:
        if proposal.status == "submitted" and proposal.supports >= program.support_threshold:
            self.move(wdb, log, proposal, "supported", "system")
            self.move(wdb, log, proposal, "in_review", "system")

    def submit(self, author: User, proposal_id: int) -> ProposalOut:
        def work(wdb: Session, log: BatchLog) -> ProposalOut:
            proposal = self._locked(wdb, proposal_id)
            if proposal.author_id != author.id:
                if proposal.status == "draft":
                    raise NotFound(f"There is no proposal {proposal_id}.")
                raise Forbidden("Only the author submits a proposal.", code="not_author")
            program = self.program(wdb, proposal.program_id)
            if proposal.status == "draft" and program.phase != "submission":
                raise Conflict(
                    N_("The program does not accept proposals now."), code="phase_closed"
                )
            self.move(wdb, log, proposal, "submitted", "author")
            self._reach_review(wdb, log, proposal, program)
            return self.out(wdb, proposal, author)

        return self.sequencer.run(work).result

    def support(self, user: User, proposal_id: int) -> ProposalOut:
        require_confirmed_email(user)

        def work(wdb: Session, log: BatchLog) -> ProposalOut:
            proposal = self._locked(wdb, proposal_id)
            if proposal.status == "draft":
                raise NotFound(f"There is no proposal {proposal_id}.")
            program = self.program(wdb, proposal.program_id)
            if proposal.author_id == user.id:
                raise Conflict(
                    N_("Authors cannot support their own proposals."), code="own_proposal"
                )
            if program.phase != "support" or proposal.status not in SUPPORTABLE:
                raise Conflict(
                    N_("This proposal is not gathering support now."), code="not_supportable"
                )
            exists = wdb.get(Support, (proposal_id, user.id))
            if exists is not None:
                raise Conflict(
                    N_("You have already supported this proposal."), code="already_supported"
                )
            wdb.add(Support(proposal_id=proposal_id, user_id=user.id, at=self.now()))  # type: ignore[arg-type]
            try:
                wdb.flush()
            except IntegrityError:
                raise Conflict(
                    N_("You have already supported this proposal."), code="already_supported"
                ) from None
            proposal.supports += 1
            log.append(
                kinds.PROPOSAL_SUPPORTED,
                {
                    "proposal": proposal_id,
                    "supporter": user.public_id,
                    "supports": proposal.supports,
                },
            )
            self._reach_review(wdb, log, proposal, program)
            return self.out(wdb, proposal, user)

        return self.sequencer.run(work).result

    def review(self, moderator: User, proposal_id: int, data: Review) -> ProposalOut:
        if data.decision == "accept" and data.validated_cost is None:
            raise InvalidInput(
                N_("Give the validated cost of a feasible proposal."),
                code="invalid_validated_cost",
                field="validated_cost",
            )
        if data.decision == "reject" and not data.reason.strip():
            raise InvalidInput(
                N_("Give the reason for rejecting the proposal."),
                code="invalid_reason",
                field="reason",
            )

        def work(wdb: Session, log: BatchLog) -> ProposalOut:
            proposal = self._locked(wdb, proposal_id)
            if proposal.status == "draft":
                raise NotFound(f"There is no proposal {proposal_id}.")
            if data.decision == "accept":
                try:
                    check_transition(proposal.status, "accepted", "moderator")
                except IllegalTransition as exc:
                    raise illegal(exc) from None
                proposal.validated_cost = data.validated_cost
                self.move(wdb, log, proposal, "accepted", "moderator")
            else:
                try:
                    check_transition(proposal.status, "rejected", "moderator")
                except IllegalTransition as exc:
                    raise illegal(exc) from None
                proposal.reason = data.reason.strip()
                self.move(wdb, log, proposal, "rejected", "moderator")
                release_all(wdb, log, proposal, self.now())
            return self.out(wdb, proposal, moderator)

        return self.sequencer.run(work).result
