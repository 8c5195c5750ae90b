"""The ballot builder (``/admin/programs/{id}/ballot``): an election made from a
programme's accepted proposals with a form, a live preview of the ballot as residents
will see it, and the configuration's own validation messages next to each field.

The form and the "advanced" JSON text are two views of one object: the ``election`` part
that ``POST /api/v1/programs/{id}/elections`` takes (``proposals.core.builder``). The
district, its budget, the currency and the projects come from the programme. Creating the
draft goes through the same service as the API (``BallotLink.create_election``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from ballot.core.config import parse_config
from ballot.core.config_checks import validate_config
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.services.errors import ElectionError
from kernel.accounts.models import District
from kernel.errors import DomainError
from kernel.markers import N_
from kernel.web import DB, Viewer, render, requires_role
from proposals.core.builder import (
    BALLOT_KINDS,
    COMPLETIONS,
    ELIGIBILITY,
    RULES,
    election_from_form,
    form_from_election,
)
from proposals.core.schemas import BallotRequest
from proposals.http.state import ProposalState
from proposals.services.ballot_link import project_id
from proposals.services.models import Program, ProgramDistrict, Proposal

__all__ = ["BallotBuilder"]


def _defaults(
    program: Program, district: ProgramDistrict | None, time_zone: str, now: datetime
) -> dict[str, str]:
    """The first view: a week from tomorrow 09:00 to two weeks later 21:00, local time."""
    today = now.astimezone(ZoneInfo(time_zone)).date()
    opens = datetime.combine(today + timedelta(days=1), time(9, 0))
    closes = datetime.combine(today + timedelta(days=15), time(21, 0))
    return {
        "id": "",
        "title": program.title,
        "kind": "approval",
        "min_projects": "1",
        "max_projects": "3",
        "total_points": "10",
        "max_per_project": "5",
        "min_length": "1",
        "max_length": "3",
        "opens_at": opens.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
        "rule": "greedy",
        "completion": "none",
        "satisfaction": "cost",
        "eligibility": "residents",
        "revoting": "on",
        "district": district.district if district else "",
    }


class BallotBuilder(Controller):
    path = "/admin/programs/{program_id:int}/ballot"
    include_in_schema = False
    guards = [requires_role("admin")]  # noqa: RUF012 - Litestar reads it as a class attribute

    def _context(
        self, db: Session, state: ProposalState, program_id: int, form: dict[str, str]
    ) -> dict[str, Any]:
        """Everything the page shows for these form values."""
        program = state.proposals.program(db, program_id)
        districts = list(
            db.scalars(select(ProgramDistrict).where(ProgramDistrict.program_id == program_id))
        )
        names = {d.code: d.name for d in db.scalars(select(District))}
        district = next((d for d in districts if d.district == form.get("district")), None)
        if district is None and districts:
            district = districts[0]
        eligible: list[Proposal] = (
            state.ballot_link.eligible(db, program_id, district.district) if district else []
        )
        picked = {p.id for p in eligible if form.get(f"proposal-{p.id}") == "on"}
        if not form.get("picked"):  # the first view: every eligible proposal
            picked = {p.id for p in eligible}
        chosen = [p for p in eligible if p.id in picked]
        time_zone = state.settings.time_zone
        election, form_problems = election_from_form(form, time_zone=time_zone)
        problems: dict[str, list[str]] = {}
        for problem in form_problems:
            problems.setdefault(problem.field, []).append(problem.detail)
        config: dict[str, Any] = {
            **election,
            "district": district.district if district else "",
            "budget": district.budget if district else 0,
            "currency": program.currency,
            "projects": [
                {
                    "id": project_id(p.id),  # type: ignore[arg-type]
                    "title": p.title,
                    "cost": p.validated_cost,
                    "proposal": str(p.id),
                }
                for p in chosen
            ],
        }
        # The configuration's own checks, except on the fields the form could not read.
        try:
            parsed = parse_config(config)
            found = [
                (p.field, p.detail)
                for p in validate_config(
                    parsed, allow_test_keys=state.settings.allow_test_keys, new_election=True
                )
            ]
        except ManifestRejected as exc:
            found = [(exc.field, exc.detail)]
        for where, detail in found:
            if not any(
                where.startswith(f.field) or f.field.startswith(where) for f in form_problems
            ):
                problems.setdefault(where, []).append(detail)
        if not chosen:
            # Said once, in the builder's words rather than the configuration's.
            problems["projects"] = []
            problems["projects"].append(
                N_(
                    "Pick at least one proposal; only accepted proposals that met the rules "
                    "can go on the ballot."
                )
            )
        return {
            "program": program,
            "districts": districts,
            "district_names": names,
            "district": district,
            "eligible": eligible,
            "picked": picked,
            "chosen": chosen,
            "form": form,
            "election": election,
            "advanced": json.dumps(election, ensure_ascii=False, indent=2),
            "problems": problems,
            "kinds": BALLOT_KINDS,
            "rules": RULES,
            "completions": COMPLETIONS,
            "eligibilities": tuple(ELIGIBILITY),
        }

    def _render(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
        program_id: int,
        form: dict[str, str],
        *,
        status_code: int = 200,
        extra: dict[str, Any] | None = None,
    ) -> Response[str]:
        with db.begin():
            context = self._context(db, state, program_id, form)
        context.update(extra or {})
        template = (
            "office/_ballot_preview.html" if form.get("fragment") else "office/ballot_builder.html"
        )
        return render(request, template, context, viewer=viewer, status_code=status_code)

    @get("/", sync_to_thread=True)
    def page(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[str]:
        """The builder, filled with sensible defaults."""
        with db.begin():
            program = state.proposals.program(db, program_id)
            first = db.scalars(
                select(ProgramDistrict).where(ProgramDistrict.program_id == program_id)
            ).first()
        now = datetime.fromtimestamp(state.proposals.now(), UTC)
        form = _defaults(program, first, state.settings.time_zone, now)
        return self._render(request, db, state, viewer, program_id, form, extra={"fresh": True})

    @post("/", sync_to_thread=True)
    def submit(
        self,
        request: Request[Any, Any, Any],
        program_id: FromPath[int],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ProposalState,
        viewer: Viewer,
    ) -> Response[Any]:
        """Preview, read the advanced text back into the form, or create the draft."""
        form = {k: str(v) for k, v in data.items() if not isinstance(v, list)}
        action = form.get("action", "preview")
        if action == "advanced":
            try:
                election = json.loads(form.get("advanced", ""))
                if not isinstance(election, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                return self._render(
                    request,
                    db,
                    state,
                    viewer,
                    program_id,
                    form,
                    status_code=400,
                    extra={"advanced_error": str(exc)},
                )
            read_back = form_from_election(election, time_zone=state.settings.time_zone)
            keep = {
                k: v
                for k, v in form.items()
                if k.startswith("proposal-") or k in ("district", "picked")
            }
            form = {**read_back, **keep}
        if action != "create":
            return self._render(request, db, state, viewer, program_id, form)
        with db.begin():
            context = self._context(db, state, program_id, form)
        if context["problems"]:
            return self._render(request, db, state, viewer, program_id, form, status_code=400)
        district = context["district"]
        try:
            created = state.ballot_link.create_election(
                program_id,
                BallotRequest(
                    district=district.district,
                    election=context["election"],
                    proposals=sorted(p.id for p in context["chosen"]),
                ),
            )
        except (DomainError, ElectionError, BallotCryptoError) as exc:
            field = getattr(exc, "field", None) or ""
            return self._render(
                request,
                db,
                state,
                viewer,
                program_id,
                form,
                status_code=exc.status,
                extra={"create_error": (field, exc.detail)},
            )
        target = (
            f"/admin/elections/{created.election}/roll"
            if context["election"]["eligibility"].get("roll")
            or context["election"]["eligibility"].get("access_codes")
            else "/admin/setup"
        )
        return Redirect(target, status_code=303)
