"""Hypothesis strategies for surveys (docs/protocol.md §19): survey configurations of
every question kind, with conditions, and valid answer sets for them."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ballot.core.config import ElectionConfig, parse_config
from ballot.core.config_checks import check_config
from ballot.core.survey import (
    BudgetQuestion,
    MultipleQuestion,
    RankingQuestion,
    ScaleQuestion,
    SingleQuestion,
    SurveySpec,
    TextQuestion,
)
from ballot.core.survey_choices import is_shown
from tests.strategies.ballot_manifest import base_config

QUESTION_KINDS = ("single", "multiple", "scale", "ranking", "budget", "text")
PROJECT_COST = 10
_WORDS = st.sampled_from(("да", "нет", "park", "Автобус", "trees", "42", "ёлка", "a", "🙂"))


@st.composite
def _question(draw: st.DrawFn, i: int, kind: str, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    q: dict[str, Any] = {"kind": kind, "id": f"q{i}", "text": f"Question {i}?"}
    if draw(st.booleans()):
        q["optional"] = True
    choosable = [e for e in earlier if e["kind"] in ("single", "multiple")]
    if choosable and draw(st.integers(0, 2)) == 0:
        target = draw(st.sampled_from(choosable))
        ids = [o["id"] for o in target["options"]]
        any_of = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
        q["show_if"] = {"question": target["id"], "any_of": any_of}
    if kind in ("single", "multiple", "ranking"):
        n = draw(st.integers(2, 5))
        q["options"] = [{"id": f"o{j}", "title": f"Option {j}"} for j in range(n)]
        if kind == "multiple":
            high = draw(st.integers(1, n))
            q.update(min_options=draw(st.integers(0, high)), max_options=high)
        elif kind == "ranking":
            high = draw(st.integers(1, n))
            q.update(min_length=draw(st.integers(1, high)), max_length=high)
    elif kind == "scale":
        low, high = draw(st.sampled_from(((1, 5), (0, 10))))
        q.update(scale_min=low, scale_max=high)
    elif kind == "text":
        q["max_length"] = draw(st.integers(1, 40))
    else:
        high = draw(st.integers(1, 3))
        q.update(
            min_projects=draw(st.integers(0, high)),
            max_projects=high,
            max_total_cost=draw(st.sampled_from((None, PROJECT_COST * high))),
            rule=draw(st.sampled_from(({"name": "greedy"}, {"name": "mes"}))),
        )
    return q


@st.composite
def surveys(draw: st.DrawFn) -> ElectionConfig:
    """A valid survey configuration of 1 to 8 questions (at most one budget question)."""
    kinds = draw(st.lists(st.sampled_from(QUESTION_KINDS), min_size=1, max_size=8))
    questions: list[dict[str, Any]] = []
    budget_seen = False
    for i, kind in enumerate(kinds):
        if kind == "budget" and budget_seen:
            kind = "text"
        budget_seen = budget_seen or kind == "budget"
        questions.append(draw(_question(i, kind, questions)))
    money: dict[str, Any] = {"budget": 0, "currency": "", "projects": []}
    if budget_seen:
        money = {
            "budget": 100,
            "currency": "RUB",
            "projects": [
                {"id": f"p{j}", "title": f"Project {j}", "cost": PROJECT_COST} for j in range(3)
            ],
        }
    config = parse_config(
        base_config(
            ballot={"kind": "survey", "questions": questions}, rule={"name": "survey"}, **money
        )
    )
    check_config(config)
    return config


@st.composite
def _text(draw: st.DrawFn, max_length: int) -> str:
    words = draw(st.lists(_WORDS, min_size=1, max_size=6))
    sep = draw(st.sampled_from((" ", "\n")))
    text = sep.join(words)[:max_length].strip()
    return text or "a"


@st.composite
def answer_sets(draw: st.DrawFn, config: ElectionConfig) -> dict[str, Any]:
    """A valid ``{"answers": …}`` value for the survey ``config``."""
    spec = config.ballot
    assert isinstance(spec, SurveySpec)
    answers: dict[str, Any] = {}
    for q in spec.questions:
        if not is_shown(q, answers) or (q.optional is True and draw(st.booleans())):
            continue
        if isinstance(q, SingleQuestion):
            answers[q.id] = draw(st.sampled_from([o.id for o in q.options]))
        elif isinstance(q, MultipleQuestion | RankingQuestion):
            ids = [o.id for o in q.options]
            low, high = (
                (q.min_options, q.max_options)
                if isinstance(q, MultipleQuestion)
                else (q.min_length, q.max_length)
            )
            answers[q.id] = draw(
                st.lists(st.sampled_from(ids), min_size=low, max_size=high, unique=True)
            )
        elif isinstance(q, ScaleQuestion):
            answers[q.id] = draw(st.integers(q.scale_min, q.scale_max))
        elif isinstance(q, TextQuestion):
            answers[q.id] = draw(_text(q.max_length))
        else:
            assert isinstance(q, BudgetQuestion)
            ids = [p.id for p in config.projects]
            answers[q.id] = draw(
                st.lists(
                    st.sampled_from(ids),
                    min_size=q.min_projects,
                    max_size=q.max_projects,
                    unique=True,
                )
            )
    return {"answers": answers}


@st.composite
def surveys_with_answers(draw: st.DrawFn) -> tuple[ElectionConfig, dict[str, Any]]:
    config = draw(surveys())
    return config, draw(answer_sets(config))
