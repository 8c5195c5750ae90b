"""Choices against the ballot kinds' limits (docs/protocol.md, "Ballot kinds"), and the
sealed plaintext's exact bytes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ballot.core.choices import (
    REJECT_CODES,
    ApprovalChoices,
    BallotRejected,
    ChoiceChoices,
    CumulativeChoices,
    OrdinalChoices,
    choices_json,
    parse_sealed_plaintext,
    sealed_plaintext,
    validate_choices,
)
from ballot.core.config import ElectionConfig, parse_config
from tests.strategies.ballot_manifest import (
    CODES_BY_KIND,
    KINDS,
    base_config,
    elections,
    invalid_choices,
    valid_choices,
)

PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


def election(**overrides: Any) -> ElectionConfig:
    return parse_config(base_config(**overrides))


# park 40 000, library 25 000, bike-lane 60 000; budget 100 000
KNAPSACK = election(
    ballot={
        "kind": "approval",
        "min_projects": 1,
        "max_projects": 2,
        "max_total_cost": 70_000,
        "min_budget_share": 35,
    }
)
CUMULATIVE = election(
    ballot={"kind": "cumulative", "total_points": 5, "max_per_project": 3},
    rule={"name": "mes"},
)
ORDINAL = election(ballot={"kind": "ordinal", "max_length": 2, "min_length": 1})
POLL = election(
    budget=0,
    currency="",
    projects=[{"id": o, "title": o.title()} for o in ("yes", "no", "abstain")],
    ballot={"kind": "choice", "min_options": 1, "max_options": 1},
    rule={"name": "plurality", "seats": 1},
)


@pytest.mark.parametrize(
    ("config", "choices", "expected"),
    [
        (KNAPSACK, {"approve": ["park"]}, ApprovalChoices(("park",))),
        (KNAPSACK, {"approve": ["library", "park"]}, ApprovalChoices(("library", "park"))),
        (KNAPSACK, {"approve": ["bike-lane"]}, ApprovalChoices(("bike-lane",))),
        (
            CUMULATIVE,
            {"points": {"park": 3, "library": 2}},
            CumulativeChoices({"park": 3, "library": 2}),
        ),
        (CUMULATIVE, {"points": {}}, CumulativeChoices({})),
        (ORDINAL, {"rank": ["bike-lane", "park"]}, OrdinalChoices(("bike-lane", "park"))),
        (POLL, {"choose": ["abstain"]}, ChoiceChoices(("abstain",))),
    ],
)
def test_valid_choices_are_accepted(
    config: ElectionConfig, choices: object, expected: object
) -> None:
    assert validate_choices(config, choices) == expected


@pytest.mark.parametrize(
    ("config", "choices", "code"),
    [
        (KNAPSACK, ["park"], "malformed_choices"),
        (KNAPSACK, {"approve": "park"}, "malformed_choices"),
        (KNAPSACK, {"approve": [1]}, "malformed_choices"),
        (KNAPSACK, {"approve": ["park"], "nonce": "x"}, "malformed_choices"),
        (KNAPSACK, {"rank": ["park"]}, "wrong_ballot_kind"),
        (KNAPSACK, {"approve": ["park", "pool"]}, "unknown_project"),
        (KNAPSACK, {"approve": ["park", "park"]}, "duplicate_project"),
        (KNAPSACK, {"approve": []}, "too_few_projects"),
        (KNAPSACK, {"approve": ["park", "library", "bike-lane"]}, "too_many_projects"),
        (KNAPSACK, {"approve": ["park", "bike-lane"]}, "over_budget"),
        # 25 000 of a 100 000 budget is under the 35% a ballot must spend
        (KNAPSACK, {"approve": ["library"]}, "under_min_spend"),
        (CUMULATIVE, {"points": {"park": True}}, "not_an_integer"),
        (CUMULATIVE, {"points": {"park": 1.0}}, "not_an_integer"),
        (CUMULATIVE, {"points": {"park": "2"}}, "not_an_integer"),
        (CUMULATIVE, {"points": {"pool": 1}}, "unknown_project"),
        (CUMULATIVE, {"points": {"park": 0}}, "zero_points"),
        (CUMULATIVE, {"points": {"park": -1, "library": 3}}, "negative_points"),
        (CUMULATIVE, {"points": {"park": 4}}, "points_per_project_exceeded"),
        (CUMULATIVE, {"points": {"park": 3, "library": 3}}, "too_many_points"),
        (CUMULATIVE, {"choose": ["park"]}, "wrong_ballot_kind"),
        (CUMULATIVE, {"points": ["park"]}, "malformed_choices"),
        (ORDINAL, {"rank": []}, "too_few_projects"),
        (ORDINAL, {"rank": ["park", "library", "bike-lane"]}, "too_many_projects"),
        (ORDINAL, {"rank": ["park", "park"]}, "duplicate_project"),
        (ORDINAL, {"approve": ["park"]}, "wrong_ballot_kind"),
        (POLL, {"choose": []}, "too_few_projects"),
        (POLL, {"choose": ["yes", "no"]}, "too_many_projects"),
        (POLL, {"choose": ["maybe"]}, "unknown_project"),
        (POLL, {"points": {"yes": 1}}, "wrong_ballot_kind"),
    ],
)
def test_each_failure_has_its_code(config: ElectionConfig, choices: object, code: str) -> None:
    with pytest.raises(BallotRejected) as caught:
        validate_choices(config, choices)
    assert caught.value.code == code
    assert code in REJECT_CODES


def test_min_budget_share_is_exact_integer_arithmetic() -> None:
    # Half of 99 is 49.5: 50 spends enough, 49 does not (no rounding anywhere).
    tight = election(
        budget=99,
        projects=[{"id": "a", "title": "A", "cost": 49}, {"id": "b", "title": "B", "cost": 50}],
        ballot={
            "kind": "approval",
            "min_projects": 1,
            "max_projects": 1,
            "max_total_cost": 50,
            "min_budget_share": 50,
        },
    )
    assert validate_choices(tight, {"approve": ["b"]}) == ApprovalChoices(("b",))
    with pytest.raises(BallotRejected, match="50%") as caught:
        validate_choices(tight, {"approve": ["a"]})
    assert caught.value.code == "under_min_spend"


@PROPERTY
@given(data=st.data(), kind=st.sampled_from(KINDS))
def test_valid_ballots_of_every_kind_are_accepted(data: st.DataObject, kind: str) -> None:
    config = data.draw(elections(kind))
    choices = data.draw(valid_choices(config))
    checked = validate_choices(config, choices)
    assert choices_json(checked) == choices


@pytest.mark.parametrize(
    ("kind", "code"), [(kind, code) for kind in KINDS for code in CODES_BY_KIND[kind]]
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_invalid_ballots_are_refused_with_their_own_code(
    data: st.DataObject, kind: str, code: str
) -> None:
    config = data.draw(elections(kind))
    expected, choices = data.draw(invalid_choices(config, code))
    assert expected == code
    with pytest.raises(BallotRejected) as caught:
        validate_choices(config, choices)
    assert caught.value.code == code, caught.value.detail


def test_sealed_plaintext_exact_bytes() -> None:
    nonce = bytes(range(16))
    data = sealed_plaintext(CumulativeChoices({"park": 3, "library": 2}), nonce)
    assert data == (
        b'{"choices":{"points":{"library":2,"park":3}},"nonce":"AAECAwQFBgcICQoLDA0ODw"}'
    )
    assert parse_sealed_plaintext(data) == ({"points": {"library": 2, "park": 3}}, nonce)


@PROPERTY
@given(data=st.data(), kind=st.sampled_from(KINDS), nonce=st.binary(min_size=16, max_size=16))
def test_sealed_plaintext_round_trips(data: st.DataObject, kind: str, nonce: bytes) -> None:
    config = data.draw(elections(kind))
    checked = validate_choices(config, data.draw(valid_choices(config)))
    choices, back = parse_sealed_plaintext(sealed_plaintext(checked, nonce))
    assert back == nonce
    assert validate_choices(config, choices) == checked


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"choices":{"approve":[]},"nonce":"AAECAwQFBgcICQoLDA0ODw"} ', "malformed_plaintext"),
        (b'{"nonce":"AAECAwQFBgcICQoLDA0ODw","choices":{"approve":[]}}', "malformed_plaintext"),
        (b'{"choices":[],"nonce":"AAECAwQFBgcICQoLDA0ODw"}', "malformed_plaintext"),
        (b'{"choices":{},"extra":1,"nonce":"AAECAwQFBgcICQoLDA0ODw"}', "malformed_plaintext"),
        (b'{"choices":{"approve":[]},"nonce":"AAECAwQFBgcICQoLDA0O"}', "bad_nonce"),
        (b'{"choices":{"approve":[]},"nonce":"AAECAwQFBgcICQoLDA0ODw=="}', "bad_nonce"),
        (b'{"choices":{"approve":[]},"nonce":7}', "bad_nonce"),
        (b"\xff", "malformed_plaintext"),
    ],
)
def test_parse_sealed_plaintext_is_strict(data: bytes, code: str) -> None:
    with pytest.raises(BallotRejected) as caught:
        parse_sealed_plaintext(data)
    assert caught.value.code == code


def test_nonce_must_be_sixteen_bytes() -> None:
    with pytest.raises(BallotRejected) as caught:
        sealed_plaintext(ApprovalChoices(()), b"short")
    assert caught.value.code == "bad_nonce"
