"""Co-funding: businesses of residents, pledges, their withdrawal, and what becomes of
them when a proposal is rejected, wins or loses. Every pledge event is logged with the
proposal's live total after it, so the log alone shows the totals."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.services.store import BatchLog
from kernel.accounts.models import User
from kernel.accounts.service import require_confirmed_email
from kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from kernel.limits import account_subject, take
from kernel.markers import N_
from proposals.core import kinds
from proposals.core.inn import inn_is_valid, inn_kind
from proposals.core.lifecycle import PLEDGEABLE
from proposals.core.schemas import BusinessCreate, BusinessOut, PledgeCreate, PledgeOut
from proposals.services.funding import log_pledge_event, pledging_open
from proposals.services.models import Business, Pledge, Proposal

if TYPE_CHECKING:
    from proposals.services.service import ProposalService


def business_out(b: Business) -> BusinessOut:
    assert b.id is not None
    return BusinessOut(id=b.id, name=b.name, inn=b.inn, kind=inn_kind(b.inn))


def pledge_out(p: Pledge, viewer: User | None) -> PledgeOut:
    assert p.id is not None
    return PledgeOut(
        id=p.id,
        proposal=p.proposal_id,
        amount=p.amount,
        kind="resident" if p.business_id is None else "business",
        status=p.status,
        mine=viewer is not None and viewer.id == p.user_id,
    )


class PledgeService:
    def __init__(self, proposals: ProposalService) -> None:
        self.proposals = proposals
        self.sequencer = proposals.sequencer

    # --- businesses -------------------------------------------------------------------
    def register_business(self, db: Session, owner: User, data: BusinessCreate) -> BusinessOut:
        inn = data.inn.strip()
        if not inn_is_valid(inn):
            raise InvalidInput(
                N_("This is not a valid tax id (INN): check its digits."),
                code="invalid_inn",
                field="inn",
            )
        if not data.name.strip():
            raise InvalidInput(N_("This field is required."), code="invalid_name", field="name")
        if db.scalars(select(Business).where(Business.inn == inn)).first() is not None:
            raise Conflict(
                N_("A business with this tax id is already registered."), code="inn_taken"
            )
        business = Business(
            public_id=secrets.token_hex(16),
            owner_id=owner.id,  # type: ignore[arg-type]
            name=data.name.strip(),
            inn=inn,
            created_at=self.proposals.now(),
        )
        db.add(business)
        try:
            db.flush()
        except IntegrityError:
            raise Conflict(
                N_("A business with this tax id is already registered."), code="inn_taken"
            ) from None
        return business_out(business)

    def businesses(self, db: Session, owner: User) -> list[BusinessOut]:
        rows = db.scalars(
            select(Business).where(Business.owner_id == owner.id).order_by(Business.id)
        ).all()
        return [business_out(b) for b in rows]

    # --- pledges -------------------------------------------------------------------------
    def pledges(self, db: Session, proposal_id: int, viewer: User | None) -> list[PledgeOut]:
        self.proposals.get(db, proposal_id, viewer)
        rows = db.scalars(
            select(Pledge).where(Pledge.proposal_id == proposal_id).order_by(Pledge.id)
        ).all()
        return [pledge_out(p, viewer) for p in rows]

    def pledge(self, user: User, proposal_id: int, data: PledgeCreate) -> PledgeOut:
        require_confirmed_email(user)

        def work(wdb: Session, log: BatchLog) -> PledgeOut:
            self._count(wdb, user)
            proposal = wdb.get(Proposal, proposal_id, with_for_update=True)
            if proposal is None or proposal.status == "draft":
                raise NotFound(f"There is no proposal {proposal_id}.")
            program = self.proposals.program(wdb, proposal.program_id)
            if not pledging_open(program, proposal, self.proposals.now()):
                raise Conflict(
                    N_("This proposal does not take pledges now."), code="pledging_closed"
                )
            if data.business is not None:
                business = wdb.get(Business, data.business)
                if business is None or business.owner_id != user.id:
                    raise Forbidden(
                        N_("You can pledge only for a business you registered."),
                        code="not_your_business",
                    )
                if program.cofund_who == "residents":
                    raise Conflict(
                        N_("This program takes pledges from residents only."), code="residents_only"
                    )
            elif program.cofund_who == "businesses":
                raise Conflict(
                    N_("This program takes pledges from businesses only."), code="businesses_only"
                )
            cost = proposal.validated_cost or proposal.cost
            if data.amount > cost:
                raise InvalidInput(
                    N_("A pledge cannot exceed the cost of the proposal."),
                    code="invalid_amount",
                    field="amount",
                )
            now = self.proposals.now()
            pledge = Pledge(
                proposal_id=proposal_id,
                user_id=user.id,  # type: ignore[arg-type]
                business_id=data.business,
                amount=data.amount,
                created_at=now,
                updated_at=now,
            )
            wdb.add(pledge)
            wdb.flush()
            log_pledge_event(wdb, log, kinds.PLEDGE_MADE, pledge, proposal_id)
            return pledge_out(pledge, user)

        return self.sequencer.run(work).result

    def _count(self, wdb: Session, user: User) -> None:
        """One more pledge or withdrawal by ``user`` (each writes a log entry)."""
        take(wdb, self.proposals.limits.pledges, account_subject(user.id), now=self.proposals.now())

    def withdraw(self, user: User, proposal_id: int, pledge_id: int) -> PledgeOut:
        def work(wdb: Session, log: BatchLog) -> PledgeOut:
            self._count(wdb, user)
            pledge = wdb.get(Pledge, pledge_id, with_for_update=True)
            if pledge is None or pledge.proposal_id != proposal_id:
                raise NotFound(f"There is no pledge {pledge_id} on proposal {proposal_id}.")
            if pledge.user_id != user.id:
                raise Forbidden(N_("Only the pledger withdraws a pledge."), code="not_your_pledge")
            proposal = wdb.get(Proposal, proposal_id)
            assert proposal is not None
            program = self.proposals.program(wdb, proposal.program_id)
            now = self.proposals.now()
            if pledge.status != "live":
                raise Conflict(N_("This pledge is no longer live."), code="pledge_not_live")
            if proposal.status not in PLEDGEABLE or (
                program.cofund_deadline is not None and now >= program.cofund_deadline
            ):
                raise Conflict(
                    N_("Pledges cannot be withdrawn after the co-funding deadline."),
                    code="deadline_passed",
                )
            pledge.status = "withdrawn"
            pledge.updated_at = now
            wdb.flush()
            log_pledge_event(wdb, log, kinds.PLEDGE_WITHDRAWN, pledge, proposal_id)
            return pledge_out(pledge, user)

        return self.sequencer.run(work).result
