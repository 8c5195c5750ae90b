"""A survey's answers (docs/protocol.md §19.2): each kind's rules, conditions, optional
questions, and every refusal with its own code; properties over generated surveys."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ballot.core.choices import (
    REJECT_CODES,
    BallotRejected,
    SurveyChoices,
    choices_json,
    parse_sealed_plaintext,
    sealed_plaintext,
    validate_choices,
)
from ballot.core.config import ElectionConfig, SurveySpec, parse_config
from ballot.core.survey import (
    BudgetQuestion,
    MultipleQuestion,
    RankingQuestion,
    ScaleQuestion,
    SingleQuestion,
    TextQuestion,
)
from ballot.core.survey_choices import SURVEY_REJECT_CODES, is_shown
from tests.strategies.survey import surveys_with_answers
from veche.bench.survey import city_survey

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CITY = parse_config(city_survey())
GOOD: dict[str, Any] = {
    "transport": "bike",
    "bike-lanes": "yes",
    "problems": ["roads", "noise"],
    "satisfaction": 4,
    "recommend": 9,
    "priorities": ["schools", "greenery"],
    "projects": ["park", "lights"],
    "comment": "Больше деревьев\nи скамеек",
}


def refused(answers: dict[str, Any], config: ElectionConfig = CITY) -> str:
    with pytest.raises(BallotRejected) as caught:
        validate_choices(config, {"answers": answers})
    return caught.value.code


def changed(**changes: Any) -> dict[str, Any]:
    answers = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            answers.pop(key)
        else:
            answers[key] = value
    return answers


def test_a_full_answer_set_is_accepted_and_sealed_as_given() -> None:
    choices = validate_choices(CITY, {"answers": GOOD})
    assert choices == SurveyChoices(answers=GOOD)
    plaintext = sealed_plaintext(choices, bytes(16))
    opened, nonce = parse_sealed_plaintext(plaintext)
    assert opened == {"answers": GOOD} and nonce == bytes(16)
    assert validate_choices(CITY, opened) == choices


def test_optional_and_hidden_questions_are_left_out() -> None:
    minimal = changed(transport="bus", **{"bike-lanes": None}, recommend=None, comment=None)
    assert choices_json(validate_choices(CITY, {"answers": minimal})) == {"answers": minimal}


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        (changed(extra="x"), "unknown_question"),
        (changed(transport="car"), "hidden_question_answered"),
        (changed(**{"bike-lanes": None}), "missing_answer"),
        (changed(satisfaction=None), "missing_answer"),
        (changed(comment=None, recommend=None, transport=None), "missing_answer"),
        (changed(transport=["bike"]), "bad_answer"),
        (changed(problems="roads"), "bad_answer"),
        (changed(satisfaction="4"), "bad_answer"),
        (changed(satisfaction=True), "bad_answer"),
        (changed(comment=7), "bad_answer"),
        (changed(priorities={"schools": 1}), "bad_answer"),
        (changed(projects="park"), "bad_answer"),
        (changed(transport="boat"), "unknown_option"),
        (changed(problems=["roads", "sharks"]), "unknown_option"),
        (changed(problems=["roads", "roads"]), "duplicate_option"),
        (changed(priorities=["schools", "schools"]), "duplicate_option"),
        (changed(problems=[]), "too_few_options"),
        (changed(problems=["roads", "noise", "parks", "waste"]), "too_many_options"),
        (changed(priorities=[]), "too_few_options"),
        (changed(priorities=["schools", "clinics", "housing", "greenery"]), "too_many_options"),
        (changed(satisfaction=0), "out_of_scale"),
        (changed(recommend=11), "out_of_scale"),
        (changed(comment=""), "bad_text"),
        (changed(comment=" padded"), "bad_text"),
        (changed(comment="tab\there"), "bad_text"),
        (changed(comment="line\r\nend"), "bad_text"),
        (changed(comment="x" * 501), "text_too_long"),
        (changed(projects=["zoo"]), "unknown_project"),
        (changed(projects=["park", "park"]), "duplicate_project"),
        (changed(projects=[]), "too_few_projects"),
        (changed(projects=["park", "library"]), "over_budget"),
    ],
)
def test_each_refusal_has_its_code(answers: dict[str, Any], code: str) -> None:
    assert code in REJECT_CODES
    assert refused(answers) == code


def test_a_multi_code_point_text_counts_code_points() -> None:
    assert validate_choices(CITY, {"answers": changed(comment="ё" * 500)})
    assert refused(changed(comment="🙂" * 501)) == "text_too_long"


@pytest.mark.parametrize(
    "choices",
    [
        {"answers": None},
        {"answers": ["transport"]},
        {"answers": {}, "extra": 1},
        "answers",
    ],
)
def test_malformed_choices(choices: Any) -> None:
    with pytest.raises(BallotRejected) as caught:
        validate_choices(CITY, choices)
    assert caught.value.code == "malformed_choices"


def test_another_kinds_choices_name_the_kind() -> None:
    with pytest.raises(BallotRejected) as caught:
        validate_choices(CITY, {"approve": ["park"]})
    assert caught.value.code == "wrong_ballot_kind"


# --- properties ----------------------------------------------------------------------


def _mutations(config: ElectionConfig, answers: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every single change of a valid answer set that must be refused, with its code."""
    spec = config.ballot
    assert isinstance(spec, SurveySpec)
    out: list[tuple[str, dict[str, Any]]] = [("unknown_question", {**answers, "zz-extra": "x"})]
    for q in spec.questions:
        earlier = {k: v for k, v in answers.items()}
        given = q.id in answers
        if not given:
            if not is_shown(q, earlier):
                value: Any = 1 if isinstance(q, ScaleQuestion) else "o0"
                out.append(("hidden_question_answered", {**answers, q.id: value}))
            continue
        without = {k: v for k, v in answers.items() if k != q.id}
        if q.optional is not True and not _feeds_condition(spec, q.id):
            out.append(("missing_answer", without))
        out.append(("bad_answer", {**answers, q.id: {"x": 1}}))
        value = answers[q.id]
        if isinstance(q, SingleQuestion):
            out.append(("unknown_option", {**answers, q.id: "nope"}))
        elif isinstance(q, MultipleQuestion | RankingQuestion):
            out.append(("unknown_option", {**answers, q.id: [*value, "nope"]}))
            if value:
                out.append(("duplicate_option", {**answers, q.id: [*value, value[0]]}))
        elif isinstance(q, ScaleQuestion):
            out.append(("out_of_scale", {**answers, q.id: q.scale_max + 1}))
            out.append(("bad_answer", {**answers, q.id: True}))
        elif isinstance(q, TextQuestion):
            out.append(("bad_text", {**answers, q.id: value + " "}))
            out.append(("text_too_long", {**answers, q.id: "x" * (q.max_length + 1)}))
        elif isinstance(q, BudgetQuestion):
            out.append(("unknown_project", {**answers, q.id: [*value, "nope"]}))
            if value:
                out.append(("duplicate_project", {**answers, q.id: [*value, value[0]]}))
    return out


def _feeds_condition(spec: SurveySpec, qid: str) -> bool:
    # Leaving out an answer that a later question's condition reads would hide that
    # question too; the property keeps to changes with one expected refusal.
    return any(getattr(q.show_if, "question", None) == qid for q in spec.questions)


@PROPERTY
@given(surveys_with_answers())
def test_generated_valid_answers_are_accepted(case: tuple[ElectionConfig, dict[str, Any]]) -> None:
    config, choices = case
    typed = validate_choices(config, choices)
    assert choices_json(typed) == choices
    assert validate_choices(config, parse_sealed_plaintext(sealed_plaintext(typed, bytes(16)))[0])


@PROPERTY
@given(surveys_with_answers())
def test_each_mutation_is_refused_with_its_code(
    case: tuple[ElectionConfig, dict[str, Any]],
) -> None:
    config, choices = case
    for code, mutated in _mutations(config, copy.deepcopy(choices["answers"])):
        assert code in SURVEY_REJECT_CODES or code in REJECT_CODES
        assert refused(mutated, config) == code, (code, mutated)
