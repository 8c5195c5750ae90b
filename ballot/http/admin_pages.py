"""The administrators' election page: configure (TOML or JSON), open, close, count, and
add voters to an open election with a reason (logged as ``electorate.added``).

Closing before the window's end asks for a confirmation: the form's "early close" box
must be ticked and a reason given, which is published in the log (docs/protocol.md
§9.1)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy import select

from audit.core.entry import format_at
from ballot.core.config import parse_config
from ballot.core.config_checks import validate_config
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.http.state import ElectionState
from ballot.services.errors import ElectionError
from kernel.accounts.models import District
from kernel.errors import InvalidInput
from kernel.markers import N_
from kernel.web import DB, Viewer, render, requires_role


def parse_text(text: str) -> object:
    """A configuration typed as JSON (starting with ``{``) or TOML."""
    stripped = text.strip()
    if not stripped:
        raise ValueError(N_("Paste a configuration in TOML or JSON."))
    if stripped.startswith("{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"JSON: {exc}") from None
    try:
        return tomllib.loads(stripped)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"TOML: {exc}") from None


# What each problem of a configuration (ballot.core.config_checks, by its stable code)
# means, in words the page translates; the checks' own English sentence, with the
# numbers and names it quotes, is shown under it as the technical detail.
PROBLEM_WORDS = {
    "bad_title": N_("The title is empty, too long or contains control characters."),
    "bad_slug": N_("Use lowercase Latin letters, digits and single hyphens."),
    "bad_limit": N_("This limit must be a positive number."),
    "max_below_min": N_("The largest number of choices is smaller than the smallest."),
    "limit_beyond_projects": N_("The limit is more than the number of projects on the ballot."),
    "limit_over_budget": N_("The most a ballot may spend is more than the budget."),
    "project_over_limit": N_("A project costs more than a ballot may spend."),
    "min_unaffordable": N_(
        "The cheapest projects a ballot must choose already cost more than it may spend."
    ),
    "bad_percentage": N_("A percentage must be from 0 to 100."),
    "share_needs_knapsack": N_(
        "A minimum share of the budget needs a spending limit per ballot too."
    ),
    "share_over_limit": N_("The minimum share of the budget is more than a ballot may spend."),
    "share_unreachable": N_(
        "The minimum share of the budget cannot be reached with the most projects "
        "a ballot may choose."
    ),
    "max_over_total": N_("The most points for one project is more than the points a voter has."),
    "points_unreachable": N_(
        "A voter could not give all their points: raise the points per project or add projects."
    ),
    "rule_not_for_kind": N_("This counting rule cannot count this kind of ballot."),
    "bad_threshold": N_("The threshold must be at least 1."),
    "bad_seats": N_("The number of seats must be between 1 and the number of options."),
    "plurality_needs_single_choice": N_(
        "Plurality counts one option per ballot: let each ballot choose one option."
    ),
    "poll_has_budget": N_("A poll has no budget: set it to 0."),
    "bad_currency": N_("The currency must be three capital Latin letters (ISO 4217)."),
    "poll_has_cost": N_("Options of a poll have no cost: set 0."),
    "bad_budget": N_("The budget must be a positive amount in minor units (kopecks)."),
    "bad_cost": N_("A project must cost a positive amount."),
    "project_over_budget": N_("A project costs more than the whole budget."),
    "too_few_projects": N_("The ballot needs a project (a poll, at least two options)."),
    "duplicate_project": N_("Two projects have the same id."),
    "bad_proposal": N_("A proposal id is 1 to 64 letters, digits, hyphens or underscores."),
    "bad_time": N_("A time is not valid: write it like 2027-03-01T09:00:00Z."),
    "bad_window": N_("Voting must close after it opens."),
    "no_eligibility": N_("Nobody could vote: allow at least one way to vote."),
    "mixed_eligibility": N_(
        "An election admits either its roll or residents verified by staff, not both."
    ),
    "electorate_set": N_("The electorate is fixed when the election opens: leave it out."),
    "bad_electorate": N_("The electorate's commitments are not valid."),
    "not_canonical": N_("The configuration is not in canonical form."),
    "bad_key_size": N_("The credential key has a size this deployment does not use."),
    "test_not_allowed": N_("This deployment does not run test elections."),
}


class ElectionAdminPages(Controller):
    path = "/admin/setup"
    include_in_schema = False
    guards = [requires_role("admin")]  # noqa: RUF012 - Litestar reads it as a class attribute

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
        **context: Any,
    ) -> Response[str]:
        with db.begin():
            elections = state.elections.list(db)
            districts = {d.code: d.name for d in db.scalars(select(District))}
        now = format_at(state.elections.lifecycle.clock())
        return render(
            request,
            "elections_admin/list.html",
            {
                "elections": elections,
                "districts": districts,
                "problems": [],
                "problem_words": PROBLEM_WORDS,
                "config_text": "",
                "now": now,
                **context,
            },
            viewer=viewer,
            status_code=400 if context.get("problems") else 200,
        )

    @get("/", sync_to_thread=True)
    def list_page(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        # After a survey or a poll is saved from the office's forms: say so by its id.
        created = request.query_params.get("created", "")
        return self._page(request, db, state, viewer, created=created[:64])

    @post("/", sync_to_thread=True)
    def create(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        text = str(data.get("config", ""))
        problems: list[tuple[str, str, str]] = []
        try:
            config = parse_config(parse_text(text))
            problems = [
                (p.field, p.detail, p.code)
                for p in validate_config(config, allow_test_keys=state.settings.allow_test_keys)
            ]
        except ValueError as exc:
            problems = [("", str(exc), "")]
        except ManifestRejected as exc:
            problems = [(exc.field, exc.detail, "")]
        if not problems:
            try:
                with db.begin():
                    state.elections.create(db, msgspec.to_builtins(config))
            except (ElectionError, BallotCryptoError) as exc:
                problems = [("", exc.detail, "")]
        if problems:
            return self._page(request, db, state, viewer, problems=problems, config_text=text)
        return Redirect("/admin/setup", status_code=303)

    @post("/{election_id:str}/add-voters", sync_to_thread=True)
    def add_voters(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        reason = str(data.get("reason", ""))
        voters = str(data.get("voters", "")).strip()
        roll: str | None = None
        residents: list[str] = []
        if voters.lower().startswith("voter_id"):
            roll = voters + "\n"
        else:
            residents = [v.strip() for v in voters.replace(",", "\n").split("\n") if v.strip()]
        try:
            added = state.elections.add_voters(election_id, reason, roll=roll, residents=residents)
        except (ElectionError, BallotCryptoError) as exc:
            return self._page(request, db, state, viewer, problems=[("", exc.detail, "")])
        return self._page(request, db, state, viewer, added=added, added_to=election_id)

    @post("/{election_id:str}/{action:str}", sync_to_thread=True)
    def act(
        self,
        request: Request[Any, Any, Any],
        election_id: FromPath[str],
        action: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[str]:
        try:
            if action == "open":
                state.elections.open(election_id)
            elif action == "close":
                # The form's confirmation: the box "early close" and the reason.
                early = str(data.get("early", "")) in ("on", "true", "1")
                reason = str(data.get("reason", "")) if early else None
                state.elections.close(election_id, early=early, reason=reason)
            elif action == "tally":
                state.results.publish(election_id)
            else:
                return self._page(
                    request, db, state, viewer, problems=[("", N_("Unknown action."), "")]
                )
        except (ElectionError, BallotCryptoError, InvalidInput) as exc:
            return self._page(request, db, state, viewer, problems=[("", exc.detail, "")])
        return Redirect("/admin/setup", status_code=303)
