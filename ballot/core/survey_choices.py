"""A survey's answers checked against its questions (docs/protocol.md §19.2).

The choices of a survey ballot are ``{"answers": {question id: answer}}``:

- single: ``"option-id"``;
- multiple: ``["option-id", …]``, no repeats, ``min_options..max_options`` of them;
- scale: an integer ``scale_min..scale_max`` (a boolean is not an integer);
- ranking: ``["option-id", …]``, most preferred first, no repeats,
  ``min_length..max_length`` long;
- budget: ``["project-id", …]``, as an approval ballot: no repeats, known projects,
  ``min_projects..max_projects``, costing at most ``max_total_cost`` when set;
- text: a string of 1..``max_length`` code points with no control character but LF and
  no leading or trailing white space (one written form for what a person meant).

A question is *shown* unless its ``show_if`` names an earlier question whose answer
holds none of ``any_of`` (a question left unanswered, hidden or optional, holds none).
Every shown question that is not optional is answered; a hidden question never is;
an unanswered question is left out, never ``null``.

Refusal codes (``BallotRejected.code``), checked in this order: ``malformed_choices``,
``unknown_question``, then question by question in the survey's order
``hidden_question_answered``, ``missing_answer``, ``bad_answer`` (the wrong JSON type for
the kind), ``unknown_option``, ``duplicate_option``, ``too_few_options``,
``too_many_options``, ``out_of_scale``, ``bad_text``, ``text_too_long``; for a budget
question the approval ballot's ``unknown_project``, ``duplicate_project``,
``too_few_projects``, ``too_many_projects``, ``over_budget``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from ballot.core.errors import BallotRejected
from ballot.core.survey import (
    BudgetQuestion,
    MultipleQuestion,
    Question,
    RankingQuestion,
    ScaleQuestion,
    ShowIf,
    SingleQuestion,
    SurveySpec,
    TextQuestion,
)

__all__ = ["SURVEY_REJECT_CODES", "is_shown", "text_problem", "validate_answers"]

SURVEY_REJECT_CODES = (
    "unknown_question",
    "hidden_question_answered",
    "missing_answer",
    "bad_answer",
    "unknown_option",
    "duplicate_option",
    "too_few_options",
    "too_many_options",
    "out_of_scale",
    "bad_text",
    "text_too_long",
)


def is_shown(question: Question, answers: Mapping[str, Any]) -> bool:
    """Whether ``question`` is shown given the (earlier) ``answers``."""
    show = question.show_if
    if not isinstance(show, ShowIf):
        return True
    given = answers.get(show.question)
    chosen = [given] if isinstance(given, str) else given if isinstance(given, list) else []
    return any(option in show.any_of for option in chosen)


def text_problem(text: str, max_length: int) -> tuple[str, str] | None:
    """``(code, detail)`` when ``text`` is not a valid text answer, or None."""
    if not text:
        return "bad_text", "the answer is empty: leave the question out instead"
    if text != text.strip():
        return "bad_text", "the answer may not start or end with white space"
    for ch in text:
        if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs"):
            return "bad_text", "the answer may not contain control characters other than a new line"
    if len(text) > max_length:
        return "text_too_long", f"the answer has {len(text)} characters; at most {max_length}"
    return None


def _ids(
    qid: str, value: object, known: Sequence[str], code_unknown: str, code_dup: str
) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BallotRejected("bad_answer", f"the answer to {qid!r} must be a list of ids")
    seen: set[str] = set()
    for item in value:
        if item not in known:
            raise BallotRejected(code_unknown, f"{item!r} is not an option of {qid!r}")
        if item in seen:
            raise BallotRejected(code_dup, f"{item!r} is named twice in the answer to {qid!r}")
        seen.add(item)
    return list(value)


def _count(qid: str, n: int, low: int, high: int, noun: str) -> None:
    if n < low:
        code = "too_few_projects" if noun == "projects" else "too_few_options"
        raise BallotRejected(code, f"choose at least {low} {noun} in {qid!r} (got {n})")
    if n > high:
        code = "too_many_projects" if noun == "projects" else "too_many_options"
        raise BallotRejected(code, f"choose at most {high} {noun} in {qid!r} (got {n})")


def _answer(question: Question, value: object, costs: Mapping[str, int]) -> Any:
    qid = question.id
    if isinstance(question, SingleQuestion):
        if not isinstance(value, str):
            raise BallotRejected("bad_answer", f"the answer to {qid!r} must be an option id")
        if value not in {o.id for o in question.options}:
            raise BallotRejected("unknown_option", f"{value!r} is not an option of {qid!r}")
        return value
    if isinstance(question, MultipleQuestion | RankingQuestion):
        known = [o.id for o in question.options]
        ids = _ids(qid, value, known, "unknown_option", "duplicate_option")
        if isinstance(question, MultipleQuestion):
            _count(qid, len(ids), question.min_options, question.max_options, "options")
        else:
            _count(qid, len(ids), question.min_length, question.max_length, "options")
        return ids
    if isinstance(question, ScaleQuestion):
        if type(value) is not int:
            raise BallotRejected("bad_answer", f"the answer to {qid!r} must be an integer")
        if not question.scale_min <= value <= question.scale_max:
            raise BallotRejected(
                "out_of_scale",
                f"the answer to {qid!r} is {value}, outside "
                f"{question.scale_min}..{question.scale_max}",
            )
        return value
    if isinstance(question, TextQuestion):
        if not isinstance(value, str):
            raise BallotRejected("bad_answer", f"the answer to {qid!r} must be text")
        problem = text_problem(value, question.max_length)
        if problem is not None:
            raise BallotRejected(problem[0], f"{qid!r}: {problem[1]}")
        return value
    assert isinstance(question, BudgetQuestion)
    ids = _ids(qid, value, list(costs), "unknown_project", "duplicate_project")
    _count(qid, len(ids), question.min_projects, question.max_projects, "projects")
    spent = sum(costs[i] for i in ids)
    if question.max_total_cost is not None and spent > question.max_total_cost:
        raise BallotRejected(
            "over_budget",
            f"the chosen projects cost {spent}; a ballot may spend at most "
            f"{question.max_total_cost}",
        )
    return ids


def validate_answers(spec: SurveySpec, costs: Mapping[str, int], answers: object) -> dict[str, Any]:
    """Check ``answers`` (the JSON value under ``"answers"``) against the survey;
    ``costs`` maps the election's project ids to their costs (for a budget question).
    Returns the answers as a new dict or raises ``BallotRejected``."""
    if not isinstance(answers, Mapping) or not all(isinstance(k, str) for k in answers):
        raise BallotRejected("malformed_choices", '"answers" must map question ids to answers')
    known = {q.id for q in spec.questions}
    for qid in answers:
        if qid not in known:
            raise BallotRejected("unknown_question", f"{qid!r} is not a question of this survey")
    out: dict[str, Any] = {}
    for question in spec.questions:
        qid = question.id
        shown = is_shown(question, out)
        if qid not in answers:
            if shown and question.optional is not True:
                raise BallotRejected("missing_answer", f"the question {qid!r} needs an answer")
            continue
        if not shown:
            raise BallotRejected(
                "hidden_question_answered",
                f"the question {qid!r} is not shown for the earlier answers, so it has none",
            )
        out[qid] = _answer(question, answers[qid], costs)
    return out
