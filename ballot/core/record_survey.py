"""A survey's count from its record (docs/protocol.md §19.3–§19.6).

Shared by the server (which publishes the result) and ``veche verify`` (which checks it),
like ``ballot.core.record``: the counted ballots' answer sets go to the tally core
(``tally.survey``), the budget question is counted by its own rule with the election's
lot, and the ``survey.text_withheld`` entries are checked against the counted ballots:
each must come after the close and before the result, name a counted ballot that
answered that text question, and not repeat another. The valid ones give each text
question's ``withheld`` count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ballot.core.choices import Choices, SurveyChoices
from ballot.core.manifest import Manifest
from ballot.core.record_types import Count, ElectionRecord, Problem
from ballot.core.survey import (
    BudgetQuestion,
    MultipleQuestion,
    RankingQuestion,
    ScaleQuestion,
    SingleQuestion,
    SurveySpec,
    TextQuestion,
    question_kind,
)
from tally import ApprovalBallot, Outcome, Project, RuleConfig
from tally import Election as TallyElection
from tally.survey import SurveyQuestion, budget_outcome, empty_outcome, tally_survey

__all__ = [
    "answer_sets",
    "budget_ballots",
    "survey_outcome",
    "survey_questions",
    "survey_result",
    "withheld_check",
]


def answer_sets(counted: Sequence[tuple[int, str, Choices, str]]) -> list[dict[str, Any]]:
    """The counted ballots' answer sets, in log order."""
    return [
        choices.answers
        for _seq, _cred, choices, _sig in counted
        if isinstance(choices, SurveyChoices)
    ]


def _budget_election(manifest: Manifest, q: BudgetQuestion, unit: int) -> TallyElection:
    return TallyElection(
        projects=tuple(Project(id=p.id, cost=p.cost, name=p.title) for p in manifest.projects),
        budget=manifest.budget,
        kind="approval",
        unit=unit,
        min_length=q.min_projects,
        max_length=q.max_projects,
        max_sum_cost=q.max_total_cost,
    )


def survey_questions(
    manifest: Manifest, budget_config: RuleConfig | None, unit: int
) -> list[SurveyQuestion]:
    """The survey's questions as the tally core counts them; ``budget_config`` is the
    budget question's rule with the election's tie-break (``record.rule_config``)."""
    spec = manifest.ballot
    assert isinstance(spec, SurveySpec)
    out: list[SurveyQuestion] = []
    for q in spec.questions:
        kind: Any = question_kind(q)
        if isinstance(q, SingleQuestion | MultipleQuestion | RankingQuestion):
            out.append(SurveyQuestion(q.id, kind, tuple(o.id for o in q.options)))
        elif isinstance(q, ScaleQuestion):
            out.append(SurveyQuestion(q.id, kind, scale=(q.scale_min, q.scale_max)))
        elif isinstance(q, BudgetQuestion):
            out.append(
                SurveyQuestion(
                    q.id, kind, election=_budget_election(manifest, q, unit), config=budget_config
                )
            )
        else:
            assert isinstance(q, TextQuestion)
            out.append(SurveyQuestion(q.id, kind))
    return out


def survey_outcome(
    manifest: Manifest,
    counted: Sequence[tuple[int, str, Choices, str]],
    questions: list[SurveyQuestion],
) -> Outcome:
    """The budget question's outcome, or an empty one (nothing funded) without one."""
    for q in questions:
        if q.kind == "budget":
            return budget_outcome(q, answer_sets(counted))
    return empty_outcome(manifest.budget)


def withheld_check(
    record: ElectionRecord, tally_count: Count
) -> tuple[dict[str, int], list[Problem]]:
    """The valid withholdings counted per text question, and the problems of the others."""
    spec = record.manifest.ballot
    texts = (
        {q.id for q in spec.questions if isinstance(q, TextQuestion)}
        if isinstance(spec, SurveySpec)
        else set()
    )
    answers = {
        seq: choices.answers
        for seq, _c, choices, _s in tally_count.counted
        if isinstance(choices, SurveyChoices)
    }
    result_seq = record.results[0][0] if record.results else None
    counts = dict.fromkeys(sorted(texts), 0)
    seen: dict[tuple[int, str], int] = {}
    problems: list[Problem] = []
    name = record.manifest.id
    for seq, body in record.withheld:
        key = (body.seq, body.question)
        if record.closed_seq is None or seq < record.closed_seq:
            problems.append(
                Problem(seq, "withheld_while_open", f"{name}: a text was withheld before the close")
            )
        elif result_seq is not None and seq > result_seq:
            problems.append(
                Problem(
                    seq,
                    "withheld_after_result",
                    f"{name}: a text was withheld after the result (seq {result_seq})",
                )
            )
        elif body.seq not in answers:
            problems.append(
                Problem(
                    seq,
                    "withheld_unknown_ballot",
                    f"{name}: the withheld text names seq {body.seq}, which is no counted ballot",
                )
            )
        elif body.question not in texts or body.question not in answers[body.seq]:
            problems.append(
                Problem(
                    seq,
                    "withheld_no_text",
                    f"{name}: the ballot at seq {body.seq} has no text answer to {body.question!r}",
                )
            )
        elif key in seen:
            problems.append(
                Problem(
                    seq,
                    "withheld_twice",
                    f"{name}: that text was already withheld at seq {seen[key]}",
                )
            )
        else:
            seen[key] = seq
            counts[body.question] += 1
    return counts, problems


def survey_result(
    record: ElectionRecord, tally_count: Count, questions: list[SurveyQuestion], outcome: Outcome
) -> dict[str, Any]:
    """The result's ``questions`` member (docs/protocol.md §19.3)."""
    withheld, _problems = withheld_check(record, tally_count)
    return tally_survey(
        questions, answer_sets(tally_count.counted), withheld=withheld, outcome=outcome
    )


def budget_ballots(
    manifest: Manifest, counted: Sequence[tuple[int, str, Choices, str]], unit: int
) -> tuple[TallyElection, list[ApprovalBallot]]:
    """The budget question as an approval election with the ballots that answered it
    (what a survey's Pabulib export holds, docs/protocol.md §19.3); a survey without one
    gives an election of no projects and no ballots."""
    spec = manifest.ballot
    assert isinstance(spec, SurveySpec)
    for q in spec.questions:
        if isinstance(q, BudgetQuestion):
            ballots = [
                ApprovalBallot(approve=tuple(a[q.id])) for a in answer_sets(counted) if q.id in a
            ]
            return _budget_election(manifest, q, unit), ballots
    return TallyElection(projects=(), budget=manifest.budget, kind="approval", unit=unit), []
