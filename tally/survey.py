"""Survey results per question, and cross-tabulations (docs/protocol.md §19.3).

Pure and exact: the inputs are the survey's questions (``SurveyQuestion``, what counting
needs of each) and the counted ballots' answer sets (``{question id: answer}``, already
checked), in log order. Each question's result is a JSON object of integers:

- single, multiple: ``{"answered": n, "counts": {option: n}}`` (every option);
- scale: ``{"answered": n, "counts": {"<value>": n for every value}, "sum": s}``;
- ranking: ``{"answered": n, "borda": {option: points}, "first": {option: n}}``; Borda
  gives ``m - 1`` points to the first option, ``m - 2`` to the second, …, with ``m`` the
  question's number of options (options left unranked get none);
- budget: ``{"answered": n, "scores": {project: n}, "spent": n, "winners": [...]}``: the
  answers as approval ballots, counted by the question's budgeting rule (``compute``);
- text: ``{"answered": n, "withheld": n}``: the texts themselves are published with the
  opened ballots, not in the result.

Shares (``share``) and means (``mean``) are ``Fraction``s for display, never stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from tally.compute import compute
from tally.model import ApprovalBallot, Election, Outcome, RuleConfig

__all__ = [
    "QuestionKind",
    "SurveyQuestion",
    "budget_outcome",
    "crosstab",
    "empty_outcome",
    "mean",
    "share",
    "tally_survey",
]

QuestionKind = Literal["single", "multiple", "scale", "ranking", "budget", "text"]
QuestionResult = dict[str, Any]


@dataclass(frozen=True)
class SurveyQuestion:
    """What counting needs of a question: its id, kind and options (the values of a
    scale, ``scale``); a budget question's election (``election``, approval ballots over
    the survey's projects) and rule (``config``, with the tie-break and its seed)."""

    id: str
    kind: QuestionKind
    options: tuple[str, ...] = ()
    scale: tuple[int, int] = (1, 5)
    election: Election | None = None
    config: RuleConfig | None = field(default=None)


def _choice_counts(q: SurveyQuestion, given: Sequence[Any]) -> QuestionResult:
    counts = dict.fromkeys(q.options, 0)
    for answer in given:
        for option in [answer] if isinstance(answer, str) else answer:
            counts[option] += 1
    return {"answered": len(given), "counts": counts}


def _scale(q: SurveyQuestion, given: Sequence[int]) -> QuestionResult:
    low, high = q.scale
    counts = {str(value): 0 for value in range(low, high + 1)}
    for value in given:
        counts[str(value)] += 1
    return {"answered": len(given), "counts": counts, "sum": sum(given)}


def _ranking(q: SurveyQuestion, given: Sequence[Sequence[str]]) -> QuestionResult:
    m = len(q.options)
    borda = dict.fromkeys(q.options, 0)
    first = dict.fromkeys(q.options, 0)
    for ranking in given:
        for position, option in enumerate(ranking):
            borda[option] += m - 1 - position
        if ranking:
            first[ranking[0]] += 1
    return {"answered": len(given), "borda": borda, "first": first}


def budget_outcome(q: SurveyQuestion, answer_sets: Sequence[Mapping[str, Any]]) -> Outcome:
    """The budget question's answers counted by its rule."""
    assert q.election is not None and q.config is not None
    ballots = [
        ApprovalBallot(approve=tuple(answers[q.id])) for answers in answer_sets if q.id in answers
    ]
    return compute(q.election, ballots, q.config)


def empty_outcome(budget: int) -> Outcome:
    """The outcome of a survey without a budget question: nothing funded."""
    return Outcome(rule="survey", winners=[], spent=0, budget=budget, scores={}, trace=[])


def tally_survey(
    questions: Sequence[SurveyQuestion],
    answer_sets: Sequence[Mapping[str, Any]],
    *,
    withheld: Mapping[str, int] | None = None,
    outcome: Outcome | None = None,
) -> dict[str, QuestionResult]:
    """Every question's result. ``withheld`` counts each text question's withheld texts;
    ``outcome`` is the budget question's, if already computed (``budget_outcome``)."""
    results: dict[str, QuestionResult] = {}
    for q in questions:
        given = [answers[q.id] for answers in answer_sets if q.id in answers]
        if q.kind in ("single", "multiple"):
            results[q.id] = _choice_counts(q, given)
        elif q.kind == "scale":
            results[q.id] = _scale(q, given)
        elif q.kind == "ranking":
            results[q.id] = _ranking(q, given)
        elif q.kind == "text":
            results[q.id] = {"answered": len(given), "withheld": (withheld or {}).get(q.id, 0)}
        else:
            counted = outcome if outcome is not None else budget_outcome(q, answer_sets)
            results[q.id] = {
                "answered": len(given),
                "scores": dict(counted.scores),
                "spent": counted.spent,
                "winners": list(counted.winners),
            }
    return results


def _values(answer: Any) -> list[str]:
    if isinstance(answer, list):
        return [str(item) for item in answer]
    return [str(answer)]


def crosstab(
    answer_sets: Sequence[Mapping[str, Any]],
    q1: str,
    q2: str,
    *,
    rows: Sequence[str] = (),
    columns: Sequence[str] = (),
) -> dict[str, dict[str, int]]:
    """How many ballots answered ``q1`` with each value and ``q2`` with each value:
    ``{q1 value: {q2 value: n}}`` over the ballots that answered both. A multiple or
    ranking answer counts once for each option it names; a scale value is its decimal
    string. ``rows`` and ``columns`` (the questions' options or values) are listed even
    where no ballot gave them."""
    table: dict[str, dict[str, int]] = {row: dict.fromkeys(columns, 0) for row in rows}
    for answers in answer_sets:
        if q1 not in answers or q2 not in answers:
            continue
        for a in _values(answers[q1]):
            line = table.setdefault(a, dict.fromkeys(columns, 0))
            for b in _values(answers[q2]):
                line[b] = line.get(b, 0) + 1
    return table


def share(count: int, answered: int) -> Fraction:
    """``count / answered`` exactly (0 when nobody answered)."""
    return Fraction(count, answered) if answered else Fraction(0)


def mean(result: Mapping[str, Any]) -> Fraction | None:
    """A scale question's mean, ``sum / answered`` exactly; None when nobody answered."""
    answered = int(result["answered"])
    return Fraction(int(result["sum"]), answered) if answered else None
