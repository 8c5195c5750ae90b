"""The back office's programme pages for administrators (docs/protocol.md §18.2): the
list, a new programme typed in a form, a programme with its phases on a timeline, the
changes the API allows (map tiles, co-funding deadline) and moving the phase forward
after a confirmation. They call the services of ``ProgramController``; a refused form
comes back with every field as typed and the reason next to the field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from babel.dates import format_date
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.orm import Session

from kernel.amounts import format_roubles
from kernel.errors import Conflict, DomainError, InvalidInput
from kernel.markers import N_
from kernel.web import DB, Viewer, render, request_language, requires_role
from proposals.core.display import PHASE_NAMES, STATUS_NAMES, field
from proposals.core.program_form import (
    end_of_day,
    local_day,
    parse_local_date,
    read_program,
    read_rules,
    rules_form,
)
from proposals.core.schemas import PHASES, PhaseChange, ProgramOut, ProgramUpdate
from proposals.http.state import ProposalState
from proposals.services.service import program_out

Form = URLEncodedBody[dict[str, Any]]
admin = requires_role("admin")
# What moving into each phase does, said on the confirmation.
PHASE_EFFECTS = {
    "support": N_(
        "Residents can no longer submit new proposals; submitted proposals gather support."
    ),
    "review": N_("Support is no longer collected; moderators review the proposals."),
    "cofunding": N_(
        "Residents and businesses can pledge money to accepted proposals until the deadline."
    ),
    "voting": N_("Elections can be made from the proposals that met the rules."),
    "implementation": N_("The winning projects are built; staff report their milestones."),
}


class Refusals(dict[str, str]):
    """Why a form was refused, by field, and the status to answer with when it comes
    back: 400 unless the service's refusal carried its own (409 for a conflict)."""

    status = 400

    @contextmanager
    def kept(self, default: str, *kinds: type[DomainError]) -> Iterator[None]:
        """Run a service call the form asked for; a refusal of one of ``kinds`` (by
        default a bad input) goes next to the field it names, else next to ``default``."""
        caught: tuple[type[DomainError], ...] = kinds or (InvalidInput,)
        try:
            yield
        except caught as exc:
            self[getattr(exc, "field", None) or default] = exc.detail
            self.status = exc.status


def typed(data: dict[str, Any]) -> dict[str, str]:
    return {k: field(data, k) for k in data if k != "csrf_token"}


def timeline(program: ProgramOut, lang: str) -> list[dict[str, Any]]:
    """Each phase with its dates as the reader's language writes them, and where the
    programme is: done, current or to come."""
    now = PHASES.index(program.phase)  # type: ignore[arg-type]
    rows = []
    for index, phase in enumerate(PHASES):
        dates = program.phases.get(phase) or {}
        shown = [
            format_date(dt.date.fromisoformat(dates[k]), "medium", locale=lang)
            for k in ("starts", "ends")
            if k in dates
        ]
        state = "done" if index < now else "current" if index == now else "next"
        rows.append({"phase": phase, "dates": " – ".join(shown), "state": state})
    return rows


def next_phase(program: ProgramOut) -> str | None:
    index = PHASES.index(program.phase)  # type: ignore[arg-type]
    return PHASES[index + 1] if index + 1 < len(PHASES) else None


class ProgramOfficePages(Controller):
    include_in_schema = False
    guards = [admin]  # noqa: RUF012 - Litestar reads a plain list

    # --- the list and a new programme ------------------------------------------------
    @get("/office/programs", sync_to_thread=True)
    def list_page(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        lang = request_language(request)
        with db.begin():
            programs = state.proposals.list_programs(db)
        rows = [{"p": p, "timeline": timeline(p, lang)} for p in programs]
        return render(
            request,
            "office/programs.html",
            {"rows": rows, "PHASE_NAMES": PHASE_NAMES},
            viewer=viewer,
        )

    def _new_page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        state: ProposalState,
        viewer: Viewer,
        form: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Response[str]:
        with db.begin():
            districts = state.accounts.list_districts(db)
        return render(
            request,
            "office/program_new.html",
            {
                "districts": districts,
                "form": form,
                "errors": errors,
                "PHASES": PHASES,
                "PHASE_NAMES": PHASE_NAMES,
                "roubles": format_roubles,
            },
            viewer=viewer,
            status_code=status_code,
        )

    @get("/office/programs/new", sync_to_thread=True)
    def new_form(
        self, request: Request[Any, Any, Any], db: DB, state: ProposalState, viewer: Viewer
    ) -> Response[str]:
        return self._new_page(request, db, state, viewer, {}, {})

    @post("/office/programs/new", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        form = typed(data)
        with db.begin():
            codes = [d.code for d in state.accounts.list_districts(db)]
        program, read_errors = read_program(form, codes, state.settings.time_zone)
        errors = Refusals(read_errors)
        if program is not None:
            with errors.kept("form"), db.begin():
                state.proposals.check_program(db, program)
        if program is None or errors:
            return self._new_page(request, db, state, viewer, form, errors, 400)
        created = state.proposals.create_program(program)
        return Redirect(f"/office/programs/{created.id}?created=1", status_code=303)

    # --- one programme -------------------------------------------------------------
    def _program_page(
        self,
        request: Request[Any, Any, Any],
        db: Session,
        state: ProposalState,
        viewer: Viewer,
        program_id: int,
        *,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        rules: dict[str, str] | None = None,
        rules_errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        from proposals.http.office_results import election_rows

        lang = request_language(request)
        tz = state.settings.time_zone
        with db.begin():
            program = program_out(db, state.proposals.program(db, program_id))
            names = {d.code: d.name for d in state.accounts.list_districts(db)}
            elections = election_rows(db, state, program_id)
        deadline = ""
        if program.cofund_deadline is not None:
            deadline = local_day(program.cofund_deadline, tz).strftime("%d.%m.%Y")
        return render(
            request,
            "office/program.html",
            {
                "program": program,
                "timeline": timeline(program, lang),
                "next_phase": next_phase(program),
                "district_names": names,
                "deadline": deadline,
                "elections": elections,
                "form": form or {"map_tile_url": program.map_tile_url, "cofund_deadline": deadline},
                "errors": errors or {},
                "rules": rules or rules_form(program),
                "rules_errors": rules_errors or {},
                "PHASES": PHASES,
                "query": request.query_params,
                "roubles": format_roubles,
                "PHASE_NAMES": PHASE_NAMES,
                "STATUS_NAMES": STATUS_NAMES,
            },
            viewer=viewer,
            status_code=status_code,
        )

    @get("/office/programs/{program_id:int}", sync_to_thread=True)
    def program_page(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        return self._program_page(request, db, state, viewer, program_id)

    @post("/office/programs/{program_id:int}", sync_to_thread=True)
    def update(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        form = typed(data)
        errors = Refusals()
        deadline: int | None = None
        if form.get("cofund_deadline"):
            day = parse_local_date(form["cofund_deadline"])
            if day is None:
                errors["cofund_deadline"] = N_("Enter a date like 31.12.2027.")
            else:
                deadline = end_of_day(day, state.settings.time_zone)
        tiles = form.get("map_tile_url") or None
        if tiles is not None and len(tiles) > 500:
            errors["map_tile_url"] = N_("This text is too long.")
        if not errors:
            with errors.kept("map_tile_url"), db.begin():
                state.proposals.update_program(
                    db, program_id, ProgramUpdate(map_tile_url=tiles, cofund_deadline=deadline)
                )
        if errors:
            return self._program_page(
                request, db, state, viewer, program_id, form=form, errors=errors, status_code=400
            )
        return Redirect(f"/office/programs/{program_id}?saved=1", status_code=303)

    @post("/office/programs/{program_id:int}/rules", sync_to_thread=True)
    def change_rules(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        form = typed(data)
        rules, read_errors = read_rules(form)
        errors = Refusals(read_errors)
        if rules is not None:
            with errors.kept("form", InvalidInput, Conflict):
                state.proposals.change_rules(program_id, rules)
        if errors:
            return self._program_page(
                request, db, state, viewer, program_id, rules=form, rules_errors=errors,
                status_code=errors.status,
            )  # fmt: skip
        return Redirect(f"/office/programs/{program_id}?rules=1", status_code=303)

    # --- the phase ---------------------------------------------------------------------
    @get("/office/programs/{program_id:int}/phase", sync_to_thread=True)
    def confirm_phase(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        with db.begin():
            program = program_out(db, state.proposals.program(db, program_id))
        target = request.query_params.get("to") or next_phase(program)
        if target not in PHASES or PHASES.index(target) <= PHASES.index(program.phase):  # type: ignore[arg-type]
            raise InvalidInput(N_("The programme can only move forward to a later phase."))
        return render(
            request,
            "office/confirm_phase.html",
            {
                "program": program,
                "target": target,
                "effect": PHASE_EFFECTS.get(target, ""),
                "PHASE_NAMES": PHASE_NAMES,
            },
            viewer=viewer,
        )

    @post("/office/programs/{program_id:int}/phase", sync_to_thread=True)
    def move_phase(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        data: Form,
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        target = field(data, "phase")
        if target not in PHASES:
            raise InvalidInput(N_("The programme can only move forward to a later phase."))
        try:
            state.proposals.move_phase(program_id, PhaseChange(phase=target))  # type: ignore[arg-type]
        except DomainError as exc:
            return self._program_page(
                request, db, state, viewer, program_id, errors={"phase": exc.detail},
                status_code=exc.status,
            )  # fmt: skip
        return Redirect(f"/office/programs/{program_id}?moved=1", status_code=303)
