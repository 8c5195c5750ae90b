"""Surveys: a ballot of several questions (docs/protocol.md §19.1).

A survey is an election whose ballot kind is ``survey`` and whose rule is
``{"name": "survey"}``. Its ballot lists 1 to 50 questions, each a msgspec struct tagged
by ``kind``:

========= ==================================================================
kind      its own fields
========= ==================================================================
single    options (2..50)
multiple  options (2..50), min_options (>= 0), max_options (1..len, >= min)
scale     scale_min, scale_max: (1, 5) or (0, 10); low_label, high_label
ranking   options (2..50), min_length (>= 1), max_length (<= len, >= min)
budget    min_projects, max_projects, max_total_cost (or null), rule: a
          budgeting rule; over the election's projects and budget
text      max_length: 1..2000 code points (default 500)
========= ==================================================================

Every question has ``id`` (a slug, unique in the survey), ``text`` (1..500 characters),
``optional`` (written only as ``true``) and ``show_if`` (``{"question": an earlier single
or multiple question, "any_of": [its option ids]}``, written only when set). Fields that
are left out are never written as ``false`` or ``null``, so a manifest has one encoding.
The checks of these fields are ``survey_problems``; ``ballot.core.survey_choices``
checks a voter's answers.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

import msgspec

from ballot.core.rules import BudgetRule, MesRule, SafeInt

__all__ = [
    "MAX_LABEL_LENGTH",
    "MAX_OPTIONS",
    "MAX_PLAINTEXT_BYTES",
    "MAX_QUESTIONS",
    "MAX_QUESTION_TEXT",
    "MAX_TEXT_ANSWER",
    "SCALES",
    "BudgetQuestion",
    "MultipleQuestion",
    "Question",
    "RankingQuestion",
    "ScaleQuestion",
    "ShowIf",
    "SingleQuestion",
    "SurveyOption",
    "SurveySpec",
    "TextQuestion",
    "budget_question",
    "plaintext_bound",
    "question_kind",
    "survey_problems",
]

MAX_QUESTIONS = 50
MAX_OPTIONS = 50
MAX_QUESTION_TEXT = 500
MAX_LABEL_LENGTH = 100
MAX_TEXT_ANSWER = 2000
DEFAULT_TEXT_ANSWER = 500
SCALES = ((1, 5), (0, 10))
# The largest sealed plaintext a ballot may have: ``MAX_SEALED_LENGTH`` (64 KiB,
# ``ballot.core.ballot``) less HPKE's encapsulated key and tag (``ballot.core.seal``).
MAX_PLAINTEXT_BYTES = 65536 - 32 - 16
_ID_BYTES = 64 + 3  # an id as a JSON string, with its comma


class SurveyOption(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An option of a single, multiple or ranking question."""

    id: str
    title: str


class ShowIf(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Shown iff the earlier question ``question`` was answered with one of ``any_of``."""

    question: str
    any_of: list[str]


class _Question(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind"
):
    id: str
    text: str
    optional: Literal[True] | msgspec.UnsetType = msgspec.UNSET
    show_if: ShowIf | msgspec.UnsetType = msgspec.UNSET


class SingleQuestion(
    _Question, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="single"
):
    """One option: ``"option-id"``."""

    options: list[SurveyOption]


class MultipleQuestion(
    _Question, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="multiple"
):
    """``min_options..max_options`` distinct options: ``["option-id", …]``."""

    options: list[SurveyOption]
    min_options: SafeInt = 0
    max_options: SafeInt


class ScaleQuestion(_Question, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="scale"):
    """An integer ``scale_min..scale_max``: 1..5 or 0..10."""

    scale_min: SafeInt
    scale_max: SafeInt
    low_label: str | msgspec.UnsetType = msgspec.UNSET
    high_label: str | msgspec.UnsetType = msgspec.UNSET


class RankingQuestion(
    _Question, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="ranking"
):
    """``min_length..max_length`` distinct options, most preferred first."""

    options: list[SurveyOption]
    min_length: SafeInt = 1
    max_length: SafeInt


class BudgetQuestion(
    _Question, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="budget"
):
    """An approval ballot over the election's projects, counted by ``rule``."""

    min_projects: SafeInt
    max_projects: SafeInt
    max_total_cost: SafeInt | None = None
    rule: BudgetRule


class TextQuestion(_Question, frozen=True, forbid_unknown_fields=True, kw_only=True, tag="text"):
    """Free text of 1..``max_length`` code points."""

    max_length: SafeInt = DEFAULT_TEXT_ANSWER


Question = (
    SingleQuestion
    | MultipleQuestion
    | ScaleQuestion
    | RankingQuestion
    | BudgetQuestion
    | TextQuestion
)


class SurveySpec(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="kind", tag="survey",
):  # fmt: skip
    """``{"answers": {question id: answer}}`` (docs/protocol.md §19.2)."""

    questions: list[Question]


def question_kind(question: Question) -> str:
    """The question's kind (its tag)."""
    return str(type(question).__struct_config__.tag)


def budget_question(spec: SurveySpec) -> BudgetQuestion | None:
    """The survey's budget question, if it has one (at most one)."""
    for question in spec.questions:
        if isinstance(question, BudgetQuestion):
            return question
    return None


# --- checks ---------------------------------------------------------------------------

Add = Callable[[str, str, str], None]


def _text(add: Add, field: str, value: str, limit: int, what: str) -> None:
    if not value.strip():
        add(field, "bad_title", f"the {what} must not be empty")
    elif len(value) > limit:
        add(field, "bad_title", f"the {what} is longer than {limit} characters")
    elif value != value.strip():
        add(field, "bad_title", f"the {what} may not start or end with white space")
    elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        add(field, "bad_title", f"the {what} contains control characters")


def _options(
    add: Add,
    field: str,
    options: Sequence[SurveyOption],
    check_slug: Callable[[str, str, str], None],
    check_title: Callable[[str, str, str], None],
) -> None:
    if not 2 <= len(options) <= MAX_OPTIONS:
        add(f"{field}.options", "bad_options", f"a question has 2 to {MAX_OPTIONS} options")
    seen: dict[str, int] = {}
    for j, option in enumerate(options):
        check_slug(f"{field}.options[{j}].id", option.id, "option id")
        if option.id in seen:
            add(
                f"{field}.options[{j}].id",
                "duplicate_option",
                f"option id {option.id!r} is already used by options[{seen[option.id]}]",
            )
        seen.setdefault(option.id, j)
        check_title(f"{field}.options[{j}].title", option.title, "option title")


def _limits(add: Add, field: str, low: tuple[str, int], high: tuple[str, int], n: int) -> None:
    (low_name, low_value), (high_name, high_value) = low, high
    if low_value < 0:
        add(f"{field}.{low_name}", "bad_limit", f"{low_name} cannot be negative")
    if high_value < 1:
        add(f"{field}.{high_name}", "bad_limit", f"{high_name} must be at least 1")
    if high_value < low_value:
        add(
            f"{field}.{high_name}",
            "max_below_min",
            f"{high_name} ({high_value}) is smaller than {low_name} ({low_value})",
        )
    if high_value > n:
        add(
            f"{field}.{high_name}",
            "limit_beyond_options",
            f"{high_name} ({high_value}) is more than the {n} options of the question",
        )


def _show_if(add: Add, field: str, show: ShowIf, earlier: dict[str, Question]) -> None:
    target = earlier.get(show.question)
    if target is None:
        add(
            f"{field}.show_if.question",
            "bad_condition",
            f"{show.question!r} is not an earlier question of the survey",
        )
        return
    if not isinstance(target, SingleQuestion | MultipleQuestion):
        add(
            f"{field}.show_if.question",
            "bad_condition",
            "a condition names a single or multiple choice question",
        )
        return
    known = {option.id for option in target.options}
    if not show.any_of:
        add(f"{field}.show_if.any_of", "bad_condition", "name at least one option")
    if len(set(show.any_of)) != len(show.any_of):
        add(f"{field}.show_if.any_of", "bad_condition", "an option is named twice")
    for option in show.any_of:
        if option not in known:
            add(
                f"{field}.show_if.any_of",
                "bad_condition",
                f"{option!r} is not an option of {show.question!r}",
            )


def _question(
    add: Add,
    field: str,
    question: Question,
    n_projects: int,
    check_slug: Callable[[str, str, str], None],
    check_title: Callable[[str, str, str], None],
) -> None:
    if isinstance(question, SingleQuestion | MultipleQuestion | RankingQuestion):
        _options(add, field, question.options, check_slug, check_title)
    n = len(getattr(question, "options", ()))
    if isinstance(question, MultipleQuestion):
        _limits(
            add, field, ("min_options", question.min_options),
            ("max_options", question.max_options), n,
        )  # fmt: skip
    elif isinstance(question, RankingQuestion):
        if question.min_length < 1:
            add(f"{field}.min_length", "bad_limit", "min_length must be at least 1")
        _limits(
            add, field, ("min_length", question.min_length), ("max_length", question.max_length), n
        )
    elif isinstance(question, ScaleQuestion):
        if (question.scale_min, question.scale_max) not in SCALES:
            add(
                f"{field}.scale_max",
                "bad_scale",
                "a scale runs from 1 to 5 or from 0 to 10",
            )
        for name in ("low_label", "high_label"):
            label = getattr(question, name)
            if isinstance(label, str):
                _text(add, f"{field}.{name}", label, MAX_LABEL_LENGTH, "label")
    elif isinstance(question, TextQuestion):
        if not 1 <= question.max_length <= MAX_TEXT_ANSWER:
            add(
                f"{field}.max_length",
                "bad_limit",
                f"a text answer may be 1 to {MAX_TEXT_ANSWER} characters long",
            )
    elif isinstance(question, BudgetQuestion):
        _limits(
            add, field, ("min_projects", question.min_projects),
            ("max_projects", question.max_projects), n_projects,
        )  # fmt: skip
        if question.max_total_cost is not None and question.max_total_cost < 1:
            add(f"{field}.max_total_cost", "bad_limit", "max_total_cost must be positive")
        rule = question.rule
        threshold = getattr(rule, "threshold", 1)
        if threshold < 1:
            add(f"{field}.rule.threshold", "bad_threshold", "the threshold must be at least 1")
        if (
            isinstance(rule, MesRule)
            and rule.min_vote_share is not None
            and not 0 <= rule.min_vote_share <= 100
        ):
            add(
                f"{field}.rule.min_vote_share",
                "bad_percentage",
                "min_vote_share is a percentage 0..100",
            )


def plaintext_bound(spec: SurveySpec, n_projects: int) -> int:
    """An upper bound of the bytes of any valid ballot's sealed plaintext (a code point
    of a text answer takes at most 4 bytes of canonical JSON)."""
    total = len('{"choices":{"answers":{}},"nonce":""}') + 22
    for q in spec.questions:
        total += len(q.id) + 4
        if isinstance(q, SingleQuestion):
            total += max((len(o.id) for o in q.options), default=0) + 2
        elif isinstance(q, MultipleQuestion | RankingQuestion):
            total += 2 + sum(len(o.id) + 3 for o in q.options)
        elif isinstance(q, ScaleQuestion):
            total += len(str(q.scale_max)) + 1
        elif isinstance(q, BudgetQuestion):
            total += 2 + n_projects * _ID_BYTES
        else:
            total += 2 + 4 * max(q.max_length, 0)
    return total


def survey_problems(
    add: Add,
    spec: SurveySpec,
    n_projects: int,
    check_slug: Callable[[str, str, str], None],
    check_title: Callable[[str, str, str], None],
) -> None:
    """Report through ``add(field, code, detail)`` every problem of a survey's questions
    (docs/protocol.md §19.1); ``check_slug`` and ``check_title`` are the configuration's
    own checks of ids and titles, ``n_projects`` the election's number of projects."""
    questions = spec.questions
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        add("ballot.questions", "bad_questions", f"a survey has 1 to {MAX_QUESTIONS} questions")
    earlier: dict[str, Question] = {}
    budgets = 0
    for i, question in enumerate(questions):
        field = f"ballot.questions[{i}]"
        check_slug(f"{field}.id", question.id, "question id")
        if question.id in earlier:
            add(f"{field}.id", "duplicate_question", f"question id {question.id!r} is used twice")
        _text(add, f"{field}.text", question.text, MAX_QUESTION_TEXT, "question")
        if isinstance(question.show_if, ShowIf):
            _show_if(add, field, question.show_if, earlier)
        if isinstance(question, BudgetQuestion):
            budgets += 1
            if budgets == 2:
                add(f"{field}.kind", "two_budget_questions", "a survey has one budget question")
        _question(add, field, question, n_projects, check_slug, check_title)
        earlier.setdefault(question.id, question)
    bound = plaintext_bound(spec, n_projects)
    if bound > MAX_PLAINTEXT_BYTES:
        add(
            "ballot.questions",
            "survey_too_large",
            f"a ballot of this survey could take {bound} bytes, more than the "
            f"{MAX_PLAINTEXT_BYTES} a sealed ballot may hold: allow shorter texts",
        )
