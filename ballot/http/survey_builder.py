"""The survey builder of the back office (``/office/surveys/new``) and its quick poll
(``/office/polls/new``): a survey (docs/protocol.md §19) made with a form, its questions
added, removed and moved, a live preview of the ballot as residents will see it, and
the configuration's own checks next to each question; saving makes a draft election,
through the same service as the administrators' election page.

A poll of one question takes two clicks from the office's home: the quick poll's link,
then "Create the poll" under the question and its options (a single-choice survey).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.orm import Session

from ballot.core.config import parse_config
from ballot.core.config_checks import validate_config
from ballot.core.errors import BallotCryptoError, ManifestRejected
from ballot.http.admin_pages import PROBLEM_WORDS
from ballot.http.state import ElectionState
from ballot.http.survey_form import (
    BUDGET_RULES,
    ELIGIBILITY,
    KINDS,
    condition_numbers,
    config_from_form,
    default_form,
    move,
    new_question,
    option_titles,
    poll_config,
    question_numbers,
)
from ballot.http.survey_view import ballot_questions
from ballot.services.errors import ElectionError
from kernel import i18n
from kernel.accounts.models import District
from kernel.markers import N_
from kernel.web import DB, Viewer, render, request_language, requires_role

__all__ = ["SurveyBuilder"]

# What the survey's own problems (ballot.core.survey, by code) mean, in words the page
# translates; the other codes are the election's (``PROBLEM_WORDS``).
SURVEY_PROBLEM_WORDS = {
    "bad_options": N_("A question has 2 to 50 options: type each on its own line."),
    "duplicate_option": N_("Two options of a question are the same."),
    "bad_condition": N_(
        "The condition names an earlier question with one choice or several, and some of "
        "its answers."
    ),
    "limit_beyond_options": N_("The limit is more than the question's options."),
    "bad_scale": N_("A scale is 1 to 5 or 0 to 10."),
    "bad_questions": N_("A survey has 1 to 50 questions."),
    "duplicate_question": N_("Two questions have the same identifier."),
    "two_budget_questions": N_("A survey has at most one budget question."),
    "survey_too_large": N_("A ballot of this survey would be too large: allow shorter texts."),
    "bad_title": N_("The text is empty, too long, or starts or ends with a space."),
}
_ACTION = re.compile(r"(remove|up|down)-(\d+)")
_QUESTION_FIELD = re.compile(r"ballot\.questions\[(\d+)\]")


def _problems(
    state: ElectionState, config: dict[str, Any], form_problems: list[Any]
) -> dict[str, list[str]]:
    """The form's and the configuration's problems by field: ``q<n>`` for a question
    (by its place in the form), a form field's name, or ``""`` for the survey."""
    problems: dict[str, list[str]] = {}
    for problem in form_problems:
        problems.setdefault(problem.field, []).append(problem.detail)
    try:
        parsed = parse_config(config)
        found = [
            (p.field, SURVEY_PROBLEM_WORDS.get(p.code) or PROBLEM_WORDS.get(p.code), p.detail)
            for p in validate_config(
                parsed, allow_test_keys=state.settings.allow_test_keys, new_election=True
            )
        ]
    except ManifestRejected as exc:
        found = [(exc.field or "", None, exc.detail)]
    for field, words, detail in found:
        match = _QUESTION_FIELD.match(field or "")
        if match:
            key = f"q{match.group(1)}"
        elif field in ("id", "title"):
            key = field
        else:
            key = "window" if field.startswith("window") else ""
        if key == "window" and any(f in problems for f in ("opens_at", "closes_at")):
            continue
        if key == "id" and not config["id"]:
            continue  # said below, in the builder's words
        shown = words or detail
        if shown not in problems.get(key, []):
            problems.setdefault(key, []).append(shown)
    if not config["ballot"]["questions"]:
        problems.setdefault("", []).append(N_("Add at least one question."))
    if not config["id"]:
        problems["id"] = [N_("Give the survey an identifier: Latin letters, digits and hyphens.")]
    return problems


def _context(db: Session, state: ElectionState, form: dict[str, str], lang: str) -> dict[str, Any]:
    config, form_problems = config_from_form(form, time_zone=state.settings.time_zone)
    districts = list(db.scalars(select(District).order_by(District.code)))
    if not form.get("district") and districts:
        form["district"] = districts[0].code
        config["district"] = districts[0].code
    numbers = question_numbers(form)
    zone = i18n.zone(state.settings.time_zone)
    return {
        # The zone's short name as the pages write times ("MSK"), not its database key.
        "zone_label": datetime.now(zone).tzname() or state.settings.time_zone,
        "form": form,
        "numbers": numbers,
        "config": config,
        "problems": _problems(state, config, form_problems),
        "preview": ballot_questions(config, lang),
        "kinds": KINDS,
        "rules": BUDGET_RULES,
        "eligibilities": tuple(ELIGIBILITY),
        "districts": districts,
        # The earlier questions a condition may name (single and multiple choice), each
        # with its place, its text and its options' titles (the boxes to tick).
        "parents": {
            i: [
                {
                    "id": form.get(f"q{j}-id", ""),
                    "number": k,
                    "text": form.get(f"q{j}-text", "").strip(),
                    "options": option_titles(form, j),
                }
                for k, j in enumerate(numbers[: numbers.index(i)], start=1)
                if form.get(f"q{j}-kind") in ("single", "multiple")
            ]
            for i in numbers
        },
        # The option numbers each condition names, as ticked or typed.
        "shown_by": {i: condition_numbers(form, i) for i in numbers},
    }


def _form(data: dict[str, Any]) -> dict[str, str]:
    """The posted fields, one value each: a condition's ticked boxes (``q<n>-show_any``,
    one value per box) read as the numbers a person would type, the last value of any
    other field."""
    form = {}
    for key, value in data.items():
        if isinstance(value, list):
            form[key] = ", ".join(map(str, value)) if key.endswith("-show_any") else str(value[-1])
        else:
            form[key] = str(value)
    return form


class SurveyBuilder(Controller):
    include_in_schema = False
    guards = [requires_role("admin")]  # noqa: RUF012 - Litestar reads it as a class attribute

    def _render(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
        form: dict[str, str],
        *,
        fresh: bool = False,
        status_code: int = 200,
        extra: dict[str, Any] | None = None,
    ) -> Response[str]:
        with db.begin():
            context = _context(db, state, form, request_language(request))
        context.update(fresh=fresh, **(extra or {}))
        template = (
            "office/_survey_preview.html" if form.get("fragment") else "office/survey_builder.html"
        )
        return render(request, template, context, viewer=viewer, status_code=status_code)

    @get("/office/surveys/new", sync_to_thread=True)
    def page(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        """The survey builder, with one single-choice question to start from."""
        now = state.elections.lifecycle.clock().astimezone(UTC)
        form = new_question(default_form("", state.settings.time_zone, now), "single")
        return self._render(request, db, state, viewer, form, fresh=True)

    @post("/office/surveys/new", sync_to_thread=True)
    def submit(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[Any]:
        """Add, remove or move a question, preview, or save the draft."""
        form = _form(data)
        action = form.pop("action", "preview")
        if action.startswith("add-"):
            form = new_question(form, action[4:])
        elif match := _ACTION.fullmatch(action):
            step = {"remove": 0, "up": -1, "down": 1}[match.group(1)]
            form = move(form, int(match.group(2)), step)
        if action != "save":
            return self._render(request, db, state, viewer, form)
        with db.begin():
            context = _context(db, state, form, request_language(request))
        if context["problems"]:
            return self._render(request, db, state, viewer, form, status_code=400)
        return self._create(request, db, state, viewer, form, context["config"], "survey")

    def _create(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
        form: dict[str, str],
        config: dict[str, Any],
        page: str,
    ) -> Response[Any]:
        try:
            parsed = parse_config(config)
            with db.begin():
                state.elections.create(db, msgspec.to_builtins(parsed))
        except (ElectionError, BallotCryptoError, ManifestRejected) as exc:
            extra = {"create_error": exc.detail}
            if page == "poll":
                return self._poll_page(request, db, state, viewer, form, extra, 400)
            return self._render(request, db, state, viewer, form, status_code=400, extra=extra)
        return Redirect(f"/admin/setup?created={config['id']}", status_code=303)

    # --- the quick poll --------------------------------------------------------------------

    def _poll_page(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
        form: dict[str, str],
        extra: dict[str, Any],
        status_code: int = 200,
    ) -> Response[str]:
        with db.begin():
            districts = list(db.scalars(select(District).order_by(District.code)))
        return render(
            request,
            "office/quick_poll.html",
            {"form": form, "districts": districts, **extra},
            viewer=viewer,
            status_code=status_code,
        )

    @get("/office/polls/new", sync_to_thread=True)
    def poll_page(
        self, request: Request[Any, Any, Any], db: DB, state: ElectionState, viewer: Viewer
    ) -> Response[str]:
        """A poll of one question: the question and its options, one per line."""
        return self._poll_page(request, db, state, viewer, {}, {})

    @post("/office/polls/new", sync_to_thread=True)
    def poll(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, Any]],
        db: DB,
        state: ElectionState,
        viewer: Viewer,
    ) -> Response[Any]:
        """Make the draft of a one-question poll (a single-choice survey)."""
        form = _form(data)
        now = state.elections.lifecycle.clock().astimezone(UTC)
        election_id = "poll-" + now.strftime("%Y%m%d-%H%M%S")
        config, form_problems = poll_config(
            form.get("question", ""),
            form.get("options", ""),
            election_id,
            time_zone=state.settings.time_zone,
            now=now,
        )
        with db.begin():
            districts = list(db.scalars(select(District).order_by(District.code)))
        codes = [d.code for d in districts]
        config["district"] = (
            form.get("district") if form.get("district") in codes else (codes or [""])[0]
        )
        problems = _poll_problems(form)
        if not problems:
            problems = [p for ps in _problems(state, config, form_problems).values() for p in ps]
        if problems:
            return self._poll_page(request, db, state, viewer, form, {"problems": problems}, 400)
        return self._create(request, db, state, viewer, form, config, "poll")


def _poll_problems(form: dict[str, str]) -> list[str]:
    """The quick poll's own checks, said in its words before the configuration's."""
    problems = []
    if not form.get("question", "").strip():
        problems.append(N_("Type the question."))
    elif len(form["question"].strip()) > 200:
        problems.append(N_("The question is too long: at most 200 characters."))
    options = [line for line in form.get("options", "").splitlines() if line.strip()]
    if len(options) < 2:
        problems.append(N_("Type at least two options, one per line."))
    elif len({o.strip() for o in options}) != len(options):
        problems.append(N_("Two options are the same."))
    return problems
