"""A voter's choices, checked against the election's ballot kind and limits.

docs/protocol.md, "Ballot kinds" and "Sealed until the close". The choices travel sealed, as
``canonical({"choices": <choices>, "nonce": b64url(16 random bytes)})`` (RFC 8785 subset,
``audit.canonical``), and are checked when the server (during voting) or anyone (after
the close) opens the seal:

- approval: ``{"approve": [ids]}`` -- no repeats, known ids, ``min_projects..max_projects``
  of them, their costs adding up to at most ``max_total_cost`` when set, and spending at
  least ``min_budget_share`` percent of the budget when set (``spent * 100 >= share *
  budget``, exact integers);
- cumulative: ``{"points": {id: n}}`` -- known ids, each ``n`` an integer with ``1 <= n <=
  max_per_project`` and at most ``total_points`` in all. An entry with 0 points is
  refused rather than ignored: a project without points is simply left out, so every
  ballot has one written form;
- ordinal: ``{"rank": [ids]}`` -- most preferred first, no repeats, known ids,
  ``min_length..max_length`` long;
- choice: ``{"choose": [option ids]}`` -- no repeats, known ids, ``min_options..max_options``;
- survey: ``{"answers": {question id: answer}}`` -- ``ballot.core.survey_choices``
  (docs/protocol.md §19.2), with its own codes after the ones below.

Every distinct failure has its own stable code (``BallotRejected.code``): ``malformed_choices``,
``wrong_ballot_kind``, ``not_an_integer`` (booleans are not integers), ``unknown_project``,
``duplicate_project``, ``zero_points``, ``negative_points``, ``points_per_project_exceeded``,
``too_many_points``, ``too_few_projects``, ``too_many_projects``, ``over_budget``,
``under_min_spend``; and for the sealed plaintext ``malformed_plaintext`` and ``bad_nonce``.
The order in which they are checked is the order of that list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from audit.core.canonical import decode_canonical as _decode_canonical
from ballot.core.config import (
    ApprovalSpec,
    ChoiceSpec,
    CumulativeSpec,
    ElectionConfig,
    OrdinalSpec,
    SurveySpec,
    ballot_kind,
)
from ballot.core.errors import BallotConflict, BallotRejected
from ballot.core.survey_choices import SURVEY_REJECT_CODES, validate_answers

__all__ = [
    "CHOICE_KEYS",
    "NONCE_LENGTH",
    "REJECT_CODES",
    "ApprovalChoices",
    "BallotConflict",
    "BallotRejected",
    "ChoiceChoices",
    "Choices",
    "CumulativeChoices",
    "OrdinalChoices",
    "SurveyChoices",
    "choices_json",
    "parse_sealed_plaintext",
    "sealed_plaintext",
    "validate_choices",
]

NONCE_LENGTH = 16
CHOICE_KEYS = {
    "approval": "approve",
    "cumulative": "points",
    "ordinal": "rank",
    "choice": "choose",
    "survey": "answers",
}
REJECT_CODES = (
    "malformed_choices",
    "wrong_ballot_kind",
    "not_an_integer",
    "unknown_project",
    "duplicate_project",
    "zero_points",
    "negative_points",
    "points_per_project_exceeded",
    "too_many_points",
    "too_few_projects",
    "too_many_projects",
    "over_budget",
    "under_min_spend",
    "malformed_plaintext",
    "bad_nonce",
    *SURVEY_REJECT_CODES,
)


class ApprovalChoices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``{"approve": [project ids]}``."""

    approve: tuple[str, ...]


class CumulativeChoices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``{"points": {project id: points}}``."""

    points: dict[str, int]


class OrdinalChoices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``{"rank": [project ids, most preferred first]}``."""

    rank: tuple[str, ...]


class ChoiceChoices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``{"choose": [option ids]}``."""

    choose: tuple[str, ...]


class SurveyChoices(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``{"answers": {question id: answer}}`` (docs/protocol.md §19.2)."""

    answers: dict[str, Any]


Choices = ApprovalChoices | CumulativeChoices | OrdinalChoices | ChoiceChoices | SurveyChoices


def choices_json(choices: Choices) -> dict[str, Any]:
    """The choices as the JSON object that is sealed."""
    if isinstance(choices, ApprovalChoices):
        return {"approve": list(choices.approve)}
    if isinstance(choices, CumulativeChoices):
        return {"points": dict(choices.points)}
    if isinstance(choices, OrdinalChoices):
        return {"rank": list(choices.rank)}
    if isinstance(choices, SurveyChoices):
        return {"answers": dict(choices.answers)}
    return {"choose": list(choices.choose)}


def _ids(value: object, key: str, known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise BallotRejected("malformed_choices", f'"{key}" must be a list of project ids')
    seen: set[str] = set()
    for item in value:
        if item not in known:
            raise BallotRejected("unknown_project", f"{item!r} is not on this ballot")
        if item in seen:
            raise BallotRejected("duplicate_project", f"{item!r} is named twice")
        seen.add(item)
    return tuple(value)


def _count(count: int, low: int, high: int, noun: str) -> None:
    if count < low:
        raise BallotRejected("too_few_projects", f"choose at least {low} {noun} (got {count})")
    if count > high:
        raise BallotRejected("too_many_projects", f"choose at most {high} {noun} (got {count})")


def _points(value: object, spec: CumulativeSpec, known: set[str]) -> dict[str, int]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise BallotRejected("malformed_choices", '"points" must map project ids to points')
    points: dict[str, int] = {}
    for key, n in value.items():
        if type(n) is not int:
            raise BallotRejected("not_an_integer", f"the points for {key!r} must be an integer")
        points[key] = n
    for key, n in points.items():
        if key not in known:
            raise BallotRejected("unknown_project", f"{key!r} is not on this ballot")
        if n == 0:
            raise BallotRejected("zero_points", f"leave {key!r} out instead of giving it 0 points")
        if n < 0:
            raise BallotRejected("negative_points", f"the points for {key!r} are negative")
        if n > spec.max_per_project:
            raise BallotRejected(
                "points_per_project_exceeded",
                f"{key!r} has {n} points; at most {spec.max_per_project} per project",
            )
    total = sum(points.values())
    if total > spec.total_points:
        raise BallotRejected(
            "too_many_points", f"{total} points given; at most {spec.total_points} in all"
        )
    return points


def _approval(value: object, spec: ApprovalSpec, config: ElectionConfig) -> ApprovalChoices:
    ids = _ids(value, "approve", {p.id for p in config.projects})
    _count(len(ids), spec.min_projects, spec.max_projects, "projects")
    cost = {p.id: p.cost for p in config.projects}
    spent = sum(cost[i] for i in ids)
    if spec.max_total_cost is not None and spent > spec.max_total_cost:
        raise BallotRejected(
            "over_budget",
            f"the chosen projects cost {spent}; a ballot may spend at most {spec.max_total_cost}",
        )
    share = spec.min_budget_share
    if share is not None and spent * 100 < share * config.budget:
        raise BallotRejected(
            "under_min_spend",
            f"the chosen projects cost {spent}; a ballot must spend at least {share}% "
            f"of the budget ({config.budget})",
        )
    return ApprovalChoices(approve=ids)


def validate_choices(election: ElectionConfig, choices: object) -> Choices:
    """Check ``choices`` (a JSON value) against ``election``'s ballot kind and limits.

    ``election`` is a ``Manifest`` or its ``ElectionConfig``. Returns the typed choices or
    raises ``BallotRejected`` with the code of the first failure."""
    kind = ballot_kind(election.ballot)
    key = CHOICE_KEYS[kind]
    if not isinstance(choices, Mapping) or set(choices) != {key}:
        names = set(choices) if isinstance(choices, Mapping) else set()
        if len(names) == 1 and names <= set(CHOICE_KEYS.values()):
            raise BallotRejected(
                "wrong_ballot_kind", f'this is a {kind} ballot: its choices are {{"{key}": …}}'
            )
        raise BallotRejected(
            "malformed_choices", f'the choices must be an object with exactly "{key}"'
        )
    value = choices[key]
    spec = election.ballot
    known = {p.id for p in election.projects}
    if isinstance(spec, ApprovalSpec):
        return _approval(value, spec, election)
    if isinstance(spec, CumulativeSpec):
        return CumulativeChoices(points=_points(value, spec, known))
    if isinstance(spec, SurveySpec):
        costs = {p.id: p.cost for p in election.projects}
        return SurveyChoices(answers=validate_answers(spec, costs, value))
    if isinstance(spec, OrdinalSpec):
        ids = _ids(value, "rank", known)
        _count(len(ids), spec.min_length, spec.max_length, "projects to rank")
        return OrdinalChoices(rank=ids)
    assert isinstance(spec, ChoiceSpec)
    ids = _ids(value, "choose", known)
    _count(len(ids), spec.min_options, spec.max_options, "options")
    return ChoiceChoices(choose=ids)


def sealed_plaintext(choices: Choices, nonce: bytes) -> bytes:
    """What is sealed: ``canonical({"choices": …, "nonce": b64url(nonce)})``; the nonce
    is 16 random bytes the caller draws."""
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_LENGTH:
        raise BallotRejected("bad_nonce", f"the nonce must be {NONCE_LENGTH} bytes")
    return canonical_bytes({"choices": choices_json(choices), "nonce": b64url_encode(nonce)})


def parse_sealed_plaintext(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Read an opened seal: canonical bytes of exactly ``{"choices": {…}, "nonce": …}``.

    Returns the choices as a JSON object (check them with ``validate_choices``) and the
    nonce bytes."""
    try:
        value = _decode_canonical(data)
    except CanonicalError as exc:
        raise BallotRejected("malformed_plaintext", f"the sealed plaintext: {exc.detail}") from None
    if not isinstance(value, dict) or set(value) != {"choices", "nonce"}:
        raise BallotRejected(
            "malformed_plaintext", 'the sealed plaintext must be {"choices": …, "nonce": …}'
        )
    choices, nonce_text = value["choices"], value["nonce"]
    if not isinstance(choices, dict):
        raise BallotRejected("malformed_plaintext", "the sealed choices must be an object")
    try:
        nonce = b64url_decode(nonce_text) if isinstance(nonce_text, str) else b""
    except CanonicalError:
        nonce = b""
    if len(nonce) != NONCE_LENGTH:
        raise BallotRejected("bad_nonce", f"the nonce must be {NONCE_LENGTH} bytes of base64url")
    return choices, nonce
