"""Survey results per question and cross-tabulations (docs/protocol.md §19.3): worked
examples, and properties that tie the counts to the answers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tally import Election, Project, RuleConfig
from tally.survey import SurveyQuestion, budget_outcome, crosstab, mean, share, tally_survey

ELECTION = Election(
    projects=(Project("park", 300), Project("library", 250), Project("lights", 150)),
    budget=500,
    kind="approval",
)
QUESTIONS = [
    SurveyQuestion("transport", "single", ("bus", "bike", "walk")),
    SurveyQuestion("problems", "multiple", ("roads", "noise", "parks")),
    SurveyQuestion("satisfaction", "scale", scale=(1, 5)),
    SurveyQuestion("priorities", "ranking", ("schools", "clinics", "housing")),
    SurveyQuestion("projects", "budget", election=ELECTION, config=RuleConfig(rule="greedy")),
    SurveyQuestion("comment", "text"),
]
ANSWERS: list[dict[str, Any]] = [
    {
        "transport": "bus",
        "problems": ["roads", "noise"],
        "satisfaction": 4,
        "priorities": ["schools", "clinics"],
        "projects": ["park", "lights"],
        "comment": "More trees",
    },
    {
        "transport": "bike",
        "problems": ["roads"],
        "satisfaction": 2,
        "priorities": ["housing"],
        "projects": ["park"],
    },
    {
        "transport": "bus",
        "problems": [],
        "satisfaction": 5,
        "priorities": ["clinics", "schools", "housing"],
        "projects": ["library", "lights"],
        "comment": "Fix the road",
    },
]


def test_worked_example() -> None:
    results = tally_survey(QUESTIONS, ANSWERS, withheld={"comment": 1})
    assert results["transport"] == {"answered": 3, "counts": {"bus": 2, "bike": 1, "walk": 0}}
    assert results["problems"] == {"answered": 3, "counts": {"roads": 2, "noise": 1, "parks": 0}}
    assert results["satisfaction"] == {
        "answered": 3,
        "counts": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
        "sum": 11,
    }
    # m = 3: 2 points for first, 1 for second, 0 for third.
    assert results["priorities"] == {
        "answered": 3,
        "borda": {"schools": 2 + 1, "clinics": 1 + 2, "housing": 2 + 0},
        "first": {"schools": 1, "clinics": 1, "housing": 1},
    }
    # park 2 votes, lights 2, library 1: greedy by votes then cost: lights, park (450 of 500).
    assert results["projects"] == {
        "answered": 3,
        "scores": {"park": 2, "library": 1, "lights": 2},
        "spent": 450,
        "winners": ["lights", "park"],
    }
    assert results["comment"] == {"answered": 2, "withheld": 1}
    assert mean(results["satisfaction"]) == Fraction(11, 3)
    assert share(2, 3) == Fraction(2, 3) and share(0, 0) == 0


def test_the_budget_outcome_is_the_rule_over_the_answers() -> None:
    outcome = budget_outcome(QUESTIONS[4], ANSWERS)
    assert outcome.winners == ["lights", "park"] and outcome.spent == 450
    given = tally_survey(QUESTIONS, ANSWERS, outcome=outcome)
    assert given["projects"]["winners"] == outcome.winners


def test_unanswered_questions_count_nothing() -> None:
    results = tally_survey(QUESTIONS, [{"transport": "walk"}])
    assert results["transport"]["answered"] == 1
    assert results["satisfaction"] == {
        "answered": 0,
        "counts": {str(v): 0 for v in range(1, 6)},
        "sum": 0,
    }
    assert mean(results["satisfaction"]) is None
    assert results["projects"]["answered"] == 0 and results["projects"]["winners"] == []


def test_crosstab() -> None:
    table = crosstab(ANSWERS, "transport", "problems", rows=("bus", "bike", "walk"))
    assert table == {
        "bus": {"roads": 1, "noise": 1},
        "bike": {"roads": 1},
        "walk": {},
    }
    full = crosstab(ANSWERS, "transport", "satisfaction", columns=[str(v) for v in range(1, 6)])
    assert full["bus"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert crosstab(ANSWERS, "transport", "comment") == {
        "bus": {"More trees": 1, "Fix the road": 1}
    }


OPTIONS = ("a", "b", "c", "d")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "one": st.sampled_from(OPTIONS),
                "many": st.lists(st.sampled_from(OPTIONS), unique=True),
                "rank": st.lists(st.sampled_from(OPTIONS), min_size=1, unique=True),
                "score": st.integers(0, 10),
            },
        ),
        max_size=30,
    )
)
def test_counts_add_up(answers: list[dict[str, Any]]) -> None:
    questions = [
        SurveyQuestion("one", "single", OPTIONS),
        SurveyQuestion("many", "multiple", OPTIONS),
        SurveyQuestion("rank", "ranking", OPTIONS),
        SurveyQuestion("score", "scale", scale=(0, 10)),
    ]
    results = tally_survey(questions, answers)
    for qid in ("one", "many", "rank", "score"):
        assert results[qid]["answered"] == sum(1 for a in answers if qid in a)
    assert sum(results["one"]["counts"].values()) == results["one"]["answered"]
    assert sum(results["many"]["counts"].values()) == sum(len(a.get("many", [])) for a in answers)
    assert sum(results["rank"]["first"].values()) == results["rank"]["answered"]
    m = len(OPTIONS)
    assert sum(results["rank"]["borda"].values()) == sum(
        sum(m - 1 - k for k in range(len(a["rank"]))) for a in answers if "rank" in a
    )
    assert sum(results["score"]["counts"].values()) == results["score"]["answered"]
    assert results["score"]["sum"] == sum(a.get("score", 0) for a in answers)
    table = crosstab(answers, "one", "score")
    assert sum(sum(row.values()) for row in table.values()) == sum(
        1 for a in answers if "one" in a and "score" in a
    )
