"""What the public sees of a proposal's money and content: the content hash logged with
each status change, the co-funding a program requires and what has been pledged, and
the bodies of the entries that record them."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.core.canonical import canonical_bytes
from audit.services.store import BatchLog
from kernel.accounts.models import User
from proposals.core import kinds
from proposals.core.schemas import CoFunding, DistrictBudget, ProgramOut
from proposals.services.models import Business, Pledge, Program, ProgramDistrict, Proposal

CONTENT_DOMAIN = b"veche/proposal/v1\n"
PLEDGE_PHASES = frozenset({"support", "review", "cofunding"})


def content_hash(p: Proposal) -> str:
    """SHA-256 of the proposal's public content, domain-separated and canonical."""
    content = {
        "category": p.category,
        "cost": p.cost,
        "description": p.description,
        "district": p.district,
        "lat_e6": p.lat_e6,
        "lon_e6": p.lon_e6,
        "summary": p.summary,
        "title": p.title,
    }
    return hashlib.sha256(CONTENT_DOMAIN + canonical_bytes(content)).hexdigest()


def required_pledges(program: Program, proposal: Proposal) -> int:
    """The least total of pledges: the share of the (validated) cost, rounded up."""
    cost = proposal.validated_cost if proposal.validated_cost is not None else proposal.cost
    return -(-cost * program.cofund_percent // 100)


def live_totals(db: Session, proposal_id: int) -> tuple[int, int]:
    """Live pledges of residents and of businesses."""
    rows = db.execute(
        select(Pledge.business_id.is_(None), func.coalesce(func.sum(Pledge.amount), 0))  # type: ignore[union-attr]
        .where(Pledge.proposal_id == proposal_id, Pledge.status == "live")
        .group_by(Pledge.business_id.is_(None))  # type: ignore[union-attr]
    ).all()
    residents = sum(int(total) for personal, total in rows if personal)
    businesses = sum(int(total) for personal, total in rows if not personal)
    return residents, businesses


def pledging_open(program: Program, proposal: Proposal, now: int) -> bool:
    return (
        program.cofund_percent > 0
        and program.phase in PLEDGE_PHASES
        and proposal.status in {"submitted", "supported", "in_review", "accepted"}
        and (program.cofund_deadline is None or now < program.cofund_deadline)
    )


def cofunding(db: Session, program: Program, proposal: Proposal, now: int) -> CoFunding:
    assert proposal.id is not None
    residents, businesses = live_totals(db, proposal.id)
    required = required_pledges(program, proposal)
    pledged = residents + businesses
    percent = 100 if required == 0 else min(100, pledged * 100 // required)
    return CoFunding(
        required=required,
        pledged=pledged,
        residents=residents,
        businesses=businesses,
        percent=percent,
        met=pledged >= required,
        open=pledging_open(program, proposal, now),
    )


def program_out(db: Session, program: Program) -> ProgramOut:
    assert program.id is not None
    rows = db.scalars(
        select(ProgramDistrict)
        .where(ProgramDistrict.program_id == program.id)
        .order_by(ProgramDistrict.district)
    ).all()
    return ProgramOut(
        id=program.id,
        title=program.title,
        currency=program.currency,
        phase=program.phase,
        phases=dict(program.phases),
        districts=[DistrictBudget(r.district, r.budget) for r in rows],
        categories=list(program.categories),
        support_threshold=program.support_threshold,
        cofund_percent=program.cofund_percent,
        cofund_who=program.cofund_who,
        cofund_deadline=program.cofund_deadline,
        map_tile_url=program.map_tile_url,
    )


def status_body(p: Proposal, author: User, source: str, target: str) -> dict[str, Any]:
    assert p.id is not None
    return {
        "proposal": p.id,
        "program": p.program_id,
        "author": author.public_id,
        "title": p.title,
        "district": p.district,
        "category": p.category,
        "cost": p.cost,
        "validated_cost": p.validated_cost,
        "from_status": source,
        "to_status": target,
        "reason": p.reason if target == "rejected" else None,
        "election": p.election_id if target in {"on_ballot", "won", "lost"} else None,
        "content": content_hash(p),
    }


# --- the pledges' ledger: each change of a pledge's state is logged -------------------


def log_pledge_event(
    wdb: Session, log: BatchLog, kind: str, pledge: Pledge, proposal_id: int
) -> None:
    pledger = wdb.get(User, pledge.user_id)
    business = wdb.get(Business, pledge.business_id) if pledge.business_id else None
    assert pledger is not None and pledge.id is not None
    residents, businesses = live_totals(wdb, proposal_id)
    log.append(
        kind,
        {
            "pledge": pledge.id,
            "proposal": proposal_id,
            "pledger": pledger.public_id,
            "business": business.public_id if business else None,
            "amount": pledge.amount,
            "total": residents + businesses,
        },
    )


def settle(wdb: Session, log: BatchLog, proposal: Proposal, outcome: str, now: int) -> None:
    """Make every live pledge of the proposal ``due`` or ``released``; log each."""
    assert outcome in {"due", "released"} and proposal.id is not None
    kind = kinds.PLEDGE_DUE if outcome == "due" else kinds.PLEDGE_RELEASED
    rows = wdb.scalars(
        select(Pledge)
        .where(Pledge.proposal_id == proposal.id, Pledge.status == "live")
        .order_by(Pledge.id)
    ).all()
    for pledge in rows:
        pledge.status = outcome
        pledge.updated_at = now
        wdb.flush()
        log_pledge_event(wdb, log, kind, pledge, proposal.id)


def release_all(wdb: Session, log: BatchLog, proposal: Proposal, now: int) -> None:
    settle(wdb, log, proposal, "released", now)
