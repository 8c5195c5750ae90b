"""Programs and proposals: creating, editing, submitting, supporting, reviewing, and the
road to the ballot.

Every change that the public must be able to check runs as one work item of the log's
sequencer (``audit.store``), so the row and its entry commit together; the checks are
repeated inside the work item, on the rows it is about to change. Status changes go only
through ``ProposalService.move``, which asks the pure table in ``proposals.lifecycle``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.canonical import canonical_bytes
from audit.store import BatchLog, Sequencer
from proposals import kinds
from proposals.errors import illegal
from proposals.lifecycle import (
    SUPPORTABLE,
    Actor,
    IllegalTransition,
    allowed_next,
    check_transition,
)
from proposals.models import (
    Image,
    Pledge,
    Program,
    ProgramDistrict,
    Proposal,
    StatusChange,
    Support,
)
from proposals.schemas import (
    PHASES,
    CoFunding,
    DistrictBudget,
    PhaseChange,
    ProgramCreate,
    ProgramOut,
    ProgramUpdate,
    ProposalCreate,
    ProposalOut,
    ProposalUpdate,
    Review,
    StatusChangeOut,
)
from veche.accounts.models import District, User
from veche.errors import Conflict, Forbidden, InvalidInput, NotFound
from veche.i18n import N_

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


class ProposalService:
    def __init__(self, sequencer: Sequencer, clock: Callable[[], float] = time.time) -> None:
        self.sequencer = sequencer
        self.clock = clock

    def now(self) -> int:
        return int(self.clock())

    # --- programs ---------------------------------------------------------------------
    def check_program(self, db: Session, data: ProgramCreate) -> None:
        codes = [d.district for d in data.districts]
        if len(set(codes)) != len(codes):
            raise InvalidInput("A district is listed twice.", field="districts")
        known = set(db.scalars(select(District.code)).all())
        for code in codes:
            if code not in known:
                raise InvalidInput(f"There is no district {code!r}.", field="districts")
        for phase, dates in data.phases.items():
            if dates.ends < dates.starts:
                raise InvalidInput(f"The {phase} phase ends before it starts.", field="phases")
        if not data.map_tile_url.startswith("https://") or "{z}" not in data.map_tile_url:
            raise InvalidInput("The tile URL must be https and contain {z}, {x} and {y}.")

    def create_program(self, data: ProgramCreate) -> ProgramOut:
        def work(wdb: Session, log: BatchLog) -> ProgramOut:
            program = Program(
                title=data.title.strip(),
                currency=data.currency,
                phases={k: {"starts": v.starts, "ends": v.ends} for k, v in data.phases.items()},
                categories=[c.strip() for c in data.categories],
                support_threshold=data.support_threshold,
                cofund_percent=data.cofund_percent,
                cofund_who=data.cofund_who,
                cofund_deadline=data.cofund_deadline,
                map_tile_url=data.map_tile_url,
                created_at=self.now(),
            )
            wdb.add(program)
            wdb.flush()
            assert program.id is not None
            for d in data.districts:
                wdb.add(
                    ProgramDistrict(program_id=program.id, district=d.district, budget=d.budget)
                )
            wdb.flush()
            out = program_out(wdb, program)
            log.append(
                kinds.PROGRAM_CREATED,
                {
                    "program": out.id,
                    "title": out.title,
                    "currency": out.currency,
                    "districts": [
                        {"district": d.district, "budget": d.budget} for d in out.districts
                    ],
                    "categories": out.categories,
                    "phases": out.phases,
                    "support_threshold": out.support_threshold,
                    "cofund_percent": out.cofund_percent,
                    "cofund_who": out.cofund_who,
                    "cofund_deadline": out.cofund_deadline,
                },
            )
            return out

        return self.sequencer.run(work).result

    def program(self, db: Session, program_id: int) -> Program:
        program = db.get(Program, program_id)
        if program is None:
            raise NotFound(f"There is no program {program_id}.")
        return program

    def list_programs(self, db: Session) -> list[ProgramOut]:
        rows = db.scalars(select(Program).order_by(Program.id.desc())).all()  # type: ignore[union-attr]
        return [program_out(db, p) for p in rows]

    def update_program(self, db: Session, program_id: int, data: ProgramUpdate) -> ProgramOut:
        program = self.program(db, program_id)
        if data.map_tile_url is not None:
            url = data.map_tile_url
            if not url.startswith("https://") or "{z}" not in url:
                raise InvalidInput("The tile URL must be https and contain {z}, {x} and {y}.")
            program.map_tile_url = url
        if data.cofund_deadline is not None:
            program.cofund_deadline = data.cofund_deadline
        db.flush()
        return program_out(db, program)

    def move_phase(self, program_id: int, data: PhaseChange) -> ProgramOut:
        def work(wdb: Session, log: BatchLog) -> ProgramOut:
            program = self.program(wdb, program_id)
            if PHASES.index(data.phase) <= PHASES.index(program.phase):  # type: ignore[arg-type]
                later = ", ".join(PHASES[PHASES.index(program.phase) + 1 :]) or "none"  # type: ignore[arg-type]
                raise Conflict(
                    f"The program is in its {program.phase} phase; it can only move forward "
                    f"(to: {later}).",
                    code="phase_backwards",
                )
            program.phase = data.phase
            wdb.flush()
            log.append(kinds.PROGRAM_PHASE, {"program": program_id, "phase": data.phase})
            return program_out(wdb, program)

        return self.sequencer.run(work).result

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
            from proposals.pledges import release_all

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
