"""Survey configurations (docs/protocol.md §19.1): every field checked with its name,
the survey kind and rule only together, and the manifest's bytes of a survey."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from ballot.core import seal
from ballot.core.config import SurveySpec, parse_config, to_json
from ballot.core.config_checks import check_config, validate_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import build_manifest, manifest_bytes, manifest_dict, parse_manifest
from ballot.core.survey import BudgetQuestion, ScaleQuestion, SingleQuestion, TextQuestion
from veche.bench.survey import city_survey


def problems(config: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in validate_config(parse_config(config))]


def with_question(index: int, **changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(city_survey())
    question = config["ballot"]["questions"][index]
    for key, value in changes.items():
        if value is None:
            question.pop(key, None)
        else:
            question[key] = value
    return config


def test_the_city_survey_is_valid_and_typed() -> None:
    config = parse_config(city_survey())
    assert validate_config(config) == []
    assert isinstance(config.ballot, SurveySpec)
    kinds = [type(q) for q in config.ballot.questions]
    assert kinds[0] is SingleQuestion
    assert kinds[3] is ScaleQuestion
    assert kinds[6] is BudgetQuestion
    assert kinds[7] is TextQuestion


def test_optional_and_show_if_are_written_only_when_set() -> None:
    written = to_json(parse_config(city_survey()).ballot)["questions"]
    assert "optional" not in written[0] and "show_if" not in written[0]
    assert written[1]["show_if"] == {"question": "transport", "any_of": ["bike", "walk"]}
    assert written[4]["optional"] is True
    assert written[7]["max_length"] == 500  # a default is written out


def test_optional_false_is_refused_naming_the_field() -> None:
    with pytest.raises(ManifestRejected) as caught:
        parse_config(with_question(0, optional=False))
    assert caught.value.field == "ballot.questions[0].optional"


def test_an_unknown_field_of_a_question_is_named() -> None:
    with pytest.raises(ManifestRejected) as caught:
        parse_config(with_question(3, options=[]))
    assert caught.value.field == "ballot.questions[3].options"


@pytest.mark.parametrize(
    ("index", "changes", "expected"),
    [
        (0, {"id": "Transport"}, ("ballot.questions[0].id", "bad_slug")),
        (1, {"id": "transport"}, ("ballot.questions[1].id", "duplicate_question")),
        (0, {"text": ""}, ("ballot.questions[0].text", "bad_title")),
        (0, {"text": "x" * 501}, ("ballot.questions[0].text", "bad_title")),
        (
            0,
            {"options": [{"id": "a", "title": "A"}]},
            ("ballot.questions[0].options", "bad_options"),
        ),
        (
            0,
            {"options": [{"id": "a", "title": "A"}, {"id": "a", "title": "B"}]},
            ("ballot.questions[0].options[1].id", "duplicate_option"),
        ),
        (
            0,
            {"options": [{"id": "a", "title": ""}, {"id": "b", "title": "B"}]},
            ("ballot.questions[0].options[0].title", "bad_title"),
        ),
        (2, {"max_options": 7}, ("ballot.questions[2].max_options", "limit_beyond_options")),
        (2, {"min_options": 4}, ("ballot.questions[2].max_options", "max_below_min")),
        (2, {"max_options": 0, "min_options": 0}, ("ballot.questions[2].max_options", "bad_limit")),
        (2, {"min_options": -1}, ("ballot.questions[2].min_options", "bad_limit")),
        (3, {"scale_max": 7}, ("ballot.questions[3].scale_max", "bad_scale")),
        (3, {"scale_min": 0}, ("ballot.questions[3].scale_max", "bad_scale")),
        (3, {"low_label": "x" * 101}, ("ballot.questions[3].low_label", "bad_title")),
        (5, {"min_length": 0}, ("ballot.questions[5].min_length", "bad_limit")),
        (5, {"max_length": 6}, ("ballot.questions[5].max_length", "limit_beyond_options")),
        (6, {"max_projects": 5}, ("ballot.questions[6].max_projects", "limit_beyond_options")),
        (6, {"max_total_cost": 0}, ("ballot.questions[6].max_total_cost", "bad_limit")),
        (
            6,
            {"rule": {"name": "greedy-threshold", "threshold": 0}},
            ("ballot.questions[6].rule.threshold", "bad_threshold"),
        ),
        (7, {"max_length": 2001}, ("ballot.questions[7].max_length", "bad_limit")),
        (7, {"max_length": 0}, ("ballot.questions[7].max_length", "bad_limit")),
        (
            1,
            {"show_if": {"question": "comment", "any_of": ["x"]}},
            ("ballot.questions[1].show_if.question", "bad_condition"),
        ),
        (
            4,
            {"show_if": {"question": "satisfaction", "any_of": ["x"]}},
            ("ballot.questions[4].show_if.question", "bad_condition"),
        ),
        (
            1,
            {"show_if": {"question": "transport", "any_of": ["boat"]}},
            ("ballot.questions[1].show_if.any_of", "bad_condition"),
        ),
        (
            1,
            {"show_if": {"question": "transport", "any_of": []}},
            ("ballot.questions[1].show_if.any_of", "bad_condition"),
        ),
    ],
)
def test_each_problem_names_its_field(
    index: int, changes: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert expected in problems(with_question(index, **changes))


def test_limits_on_questions_and_budget_questions() -> None:
    config = city_survey()
    config["ballot"] = {"kind": "survey", "questions": []}
    assert ("ballot.questions", "bad_questions") in problems(config)
    config["ballot"] = {"kind": "survey", "questions": CITY_TEXTS * 51}
    assert ("ballot.questions", "bad_questions") in problems(config)
    two = copy.deepcopy(city_survey())
    budget = dict(two["ballot"]["questions"][6], id="projects-again")
    two["ballot"]["questions"].append(budget)
    assert ("ballot.questions[8].kind", "two_budget_questions") in problems(two)


CITY_TEXTS = [{"kind": "text", "id": "t", "text": "Say something"}]


def test_a_survey_without_a_budget_question_has_no_money() -> None:
    config = city_survey()
    config["ballot"] = {"kind": "survey", "questions": CITY_TEXTS}
    found = problems(config)
    assert ("budget", "survey_has_budget") in found
    assert ("currency", "survey_has_currency") in found
    assert ("projects", "survey_has_projects") in found
    config.update(budget=0, currency="", projects=[])
    assert problems(config) == []


def test_the_survey_kind_and_rule_go_only_together() -> None:
    assert ("rule.name", "rule_not_for_kind") in problems(city_survey(rule={"name": "greedy"}))
    approval = city_survey(ballot={"kind": "approval", "min_projects": 1, "max_projects": 2})
    assert ("rule.name", "rule_not_for_kind") in problems(approval)


def test_a_budget_question_needs_a_budgeting_election() -> None:
    found = problems(city_survey(budget=0, currency=""))
    assert ("budget", "bad_budget") in found
    assert ("currency", "bad_currency") in found


def test_check_config_raises_the_first_problem_with_its_field() -> None:
    with pytest.raises(ManifestRejected) as caught:
        check_config(parse_config(with_question(3, scale_max=3)))
    assert (caught.value.code, caught.value.field) == ("bad_scale", "ballot.questions[3].scale_max")


def test_a_survey_manifest_round_trips(rsa_public_key: Any) -> None:
    authority = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    manifest = build_manifest(
        parse_config(city_survey(rsa_key_bits=1024, test=True)),
        rsa_public_key,
        seal.public_key_of(bytes(range(32))),
        bytes(32),
        authority.public_key().public_bytes_raw(),
        datetime(2027, 3, 1, 8, tzinfo=UTC),
        allow_test_keys=True,
    )
    data = manifest_dict(manifest)
    assert data["ballot"]["kind"] == "survey"
    assert data["rule"] == {"name": "survey"}
    again = parse_manifest(data, allow_test_keys=True)
    assert again == manifest
    assert manifest_bytes(again) == manifest_bytes(manifest)


def test_a_survey_whose_ballot_could_not_be_sealed_is_refused() -> None:
    from ballot.core.ballot import MAX_SEALED_LENGTH
    from ballot.core.seal import ENC_LENGTH, TAG_LENGTH
    from ballot.core.survey import MAX_PLAINTEXT_BYTES

    assert MAX_PLAINTEXT_BYTES == MAX_SEALED_LENGTH - ENC_LENGTH - TAG_LENGTH
    texts = [{"kind": "text", "id": f"t{i}", "text": "Say", "max_length": 2000} for i in range(7)]
    config = city_survey(budget=0, currency="", projects=[])
    config["ballot"] = {"kind": "survey", "questions": texts}
    assert problems(config) == []
    config["ballot"]["questions"] = [*texts, {**texts[0], "id": "t7"}, {**texts[0], "id": "t8"}]
    assert ("ballot.questions", "survey_too_large") in problems(config)


def test_the_largest_allowed_text_ballot_seals(rsa_public_key: Any) -> None:
    from ballot.core.choices import sealed_plaintext, validate_choices
    from ballot.core.survey import MAX_PLAINTEXT_BYTES, plaintext_bound

    texts = [{"kind": "text", "id": f"t{i}", "text": "Say", "max_length": 2000} for i in range(7)]
    config = parse_config(
        city_survey(
            budget=0, currency="", projects=[], ballot={"kind": "survey", "questions": texts}
        )
    )
    assert isinstance(config.ballot, SurveySpec)
    worst = {f"t{i}": "🙂" * 2000 for i in range(7)}
    plaintext = sealed_plaintext(validate_choices(config, {"answers": worst}), bytes(16))
    assert len(plaintext) <= plaintext_bound(config.ballot, 0) <= MAX_PLAINTEXT_BYTES


def test_a_budget_questions_spending_limit_is_checked_like_an_approval_ballots() -> None:
    assert ("ballot.questions[6].max_total_cost", "limit_over_budget") in problems(
        with_question(6, max_total_cost=700_000)
    )
    assert ("projects[0].cost", "project_over_limit") in problems(
        with_question(6, max_total_cost=250_000)
    )
