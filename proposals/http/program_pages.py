"""Programme pages for residents: every programme with its phase timeline
(``/programs``) and a programme's landing page (``/programs/{id}``) with its budget,
districts, categories and what a resident can do in the current phase. The helpers
here are shared with the proposal pages: a programme asked for by number (404 when there
is none), the districts' names by code, and how much the shown pledges add up to."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.accounts.models import District
from kernel.errors import NotFound
from kernel.markers import N_
from kernel.web import DB, Viewer, render
from proposals.core.display import helpers
from proposals.core.schemas import PHASES, CoFunding, PledgeOut, ProgramOut
from proposals.http.state import ProposalState
from proposals.services.models import Proposal

# Pledges that count towards a proposal's co-funding: those still standing (live) and
# those called in after the vote (due). Withdrawn and released ones no longer count.
COUNTED_PLEDGES = frozenset({"live", "due"})


def find_program(db: Session, state: ProposalState, wanted: str | None) -> Any:
    """The programme asked for, or the newest when none is asked for; 404 for a number
    that names no programme (never another programme in its place)."""
    programs: list[ProgramOut] = state.proposals.list_programs(db)
    if wanted is None or wanted == "":
        return (programs[0] if programs else None), programs
    if wanted.isdigit():
        for program in programs:
            if program.id == int(wanted):
                return program, programs
    raise NotFound(N_("There is no such budgeting program."), code="no_such_program")


def district_names(db: Session) -> dict[str, str]:
    """District codes to the names the municipality gave them."""
    return {d.code: d.name for d in db.scalars(select(District)).all()}


def funding_shown(shown: list[PledgeOut], required: int, open_: bool) -> CoFunding:
    """Co-funding from the pledges the page lists, in exact integers (minor units)."""
    counted = [p for p in shown if p.status in COUNTED_PLEDGES]
    residents = sum(p.amount for p in counted if p.kind == "resident")
    businesses = sum(p.amount for p in counted if p.kind != "resident")
    pledged = residents + businesses
    percent = 100 if required <= 0 else min(100, pledged * 100 // required)
    return CoFunding(
        required=required,
        pledged=pledged,
        residents=residents,
        businesses=businesses,
        percent=percent,
        met=pledged >= required,
        open=open_,
    )


def timeline(program: ProgramOut) -> list[dict[str, Any]]:
    """The phases in order: each with its dates (when set) and whether it is past,
    current or to come."""
    current = PHASES.index(program.phase) if program.phase in PHASES else -1  # type: ignore[arg-type]
    steps = []
    for index, phase in enumerate(PHASES):
        dates = program.phases.get(phase) or {}
        if not isinstance(dates, dict):
            dates = {"starts": getattr(dates, "starts", None), "ends": getattr(dates, "ends", None)}
        state = "past" if index < current else "current" if index == current else "future"
        steps.append(
            {
                "phase": phase,
                "starts": dates.get("starts"),
                "ends": dates.get("ends"),
                "state": state,
            }
        )
    return steps


def proposal_counts(db: Session) -> dict[int, int]:
    """Proposals past the draft stage, by programme."""
    rows = db.execute(
        select(Proposal.program_id, func.count())
        .where(Proposal.status != "draft")
        .group_by(Proposal.program_id)
    ).all()
    return {int(program): int(count) for program, count in rows}


class ProgramPages(Controller):
    include_in_schema = False

    @get("/programs", sync_to_thread=True)
    def programs(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        with db.begin():
            programs = state.proposals.list_programs(db)
            counts = proposal_counts(db)
        return render(
            request,
            "proposals/programs.html",
            {
                "programs": [
                    {"program": p, "timeline": timeline(p), "count": counts.get(p.id, 0)}
                    for p in programs
                ],
                **helpers(),
            },
            viewer=viewer,
        )

    @get("/programs/{program_id:int}", sync_to_thread=True)
    def landing(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        with db.begin():
            program, _programs = find_program(db, state, str(program_id))
            counts = proposal_counts(db)
            names = district_names(db)
            rows = state.proposals.search(db, program=program.id)
        return render(
            request,
            "proposals/program.html",
            {
                "program": program,
                "timeline": timeline(program),
                "count": counts.get(program.id, 0),
                "budget": sum(d.budget for d in program.districts),
                "district_names": names,
                "rows": rows[:6],
                **helpers(),
            },
            viewer=viewer,
        )
