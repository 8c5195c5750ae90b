"""Budgeting programs: their rules (districts and budgets, categories, phase dates,
support threshold, co-funding), logged when created, and their phases, which admins
move forward one way only."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog
from kernel.accounts.models import District
from kernel.errors import Conflict, InvalidInput, NotFound
from kernel.markers import N_
from proposals.core import kinds
from proposals.core.schemas import (
    PHASES,
    PhaseChange,
    ProgramCreate,
    ProgramOut,
    ProgramRules,
    ProgramUpdate,
)
from proposals.services.funding import program_out
from proposals.services.models import Program, ProgramDistrict, Proposal


class Programs:
    """The program half of ``ProposalService``."""

    sequencer: Sequencer
    clock: Callable[[], float] = time.time

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

    def change_rules(self, program_id: int, data: ProgramRules) -> ProgramOut:
        """Change the rules while the program is in its submission phase, logged as
        ``program.changed`` with the rules in full (docs/protocol.md §18.4). A category
        that a proposal uses cannot be dropped."""

        def work(wdb: Session, log: BatchLog) -> ProgramOut:
            program = self.program(wdb, program_id)
            if program.phase != "submission":
                raise Conflict(
                    N_("The rules can change only in the submission phase."),
                    code="rules_fixed",
                )
            categories = [c.strip() for c in data.categories]
            if len(set(categories)) != len(categories):
                raise InvalidInput(N_("A category is listed twice."), field="categories")
            used = set(
                wdb.scalars(
                    select(Proposal.category).where(Proposal.program_id == program_id)
                ).all()
            )
            if used - set(categories):
                raise InvalidInput(
                    N_("A category that proposals use cannot be removed."), field="categories"
                )
            for dates in data.phases.values():
                if dates.ends < dates.starts:
                    raise InvalidInput(N_("This phase ends before it starts."), field="phases")
            program.title = data.title.strip()
            program.categories = categories
            program.phases = {
                k: {"starts": v.starts, "ends": v.ends} for k, v in data.phases.items()
            }
            program.support_threshold = data.support_threshold
            program.cofund_percent = data.cofund_percent
            wdb.flush()
            out = program_out(wdb, program)
            log.append(
                kinds.PROGRAM_CHANGED,
                {
                    "program": out.id,
                    "title": out.title,
                    "categories": out.categories,
                    "phases": out.phases,
                    "support_threshold": out.support_threshold,
                    "cofund_percent": out.cofund_percent,
                },
            )
            return out

        return self.sequencer.run(work).result
