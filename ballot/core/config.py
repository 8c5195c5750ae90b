"""Election configurations: what an administrator submits, read strictly and checked.

docs/protocol.md, "Elections and ballots" ("Manifest", "Ballot kinds") and "Tally"
(rules, tie-breaks). An election is configured as an ``ElectionConfig`` (JSON, or TOML
read into the same dict: quote the times, TOML would otherwise turn them into dates).
``parse_config`` reads the shape (types, no unknown fields); ``validate_config``
(``ballot.core.config_checks``) lists every inconsistency with the field it concerns.
Opening the election freezes the configuration into the signed manifest (``ballot.core.manifest``).

Times are RFC 3339 UTC to the second, ``YYYY-MM-DDTHH:MM:SSZ``; voting is open for
``opens_at <= now < closes_at``.

Ballot limits (the kind is the tag) and the rules each kind admits:

========== ====================================================== =======================
kind       limits                                                 rules
========== ====================================================== =======================
approval   min_projects, max_projects, max_total_cost (knapsack,  greedy, greedy-no-skip,
           optional), min_budget_share (percent, needs knapsack)  greedy-threshold, mes,
                                                                  phragmen
cumulative total_points, max_per_project                          greedy*, mes
ordinal    max_length, min_length (default 1)                     greedy*, borda
choice     min_options, max_options                               plurality, approval
survey     questions (``ballot.core.survey``, docs/protocol.md    survey
           §19.1)
========== ====================================================== =======================

Polls. An election whose rule is a poll rule (plurality, approval, borda) is a poll:
its ``projects`` are the options, it has no money (budget 0, every cost 0, currency
empty or a code) and ``rule.seats`` options win. Every other election is a budgeting
one: budget > 0, every cost > 0 and no dearer than the budget (it could never be
funded), and an ISO 4217 currency code. Rule options exist only for the rules they
apply to (an option on another rule is refused as an unknown field):
``greedy-threshold``: threshold (>= 1); ``mes``: satisfaction, completion, comparison,
min_vote_share (percent); poll rules: seats. ``plurality`` needs ``max_options`` 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn

import msgspec

from ballot.core.blind import MIN_KEY_BITS
from ballot.core.errors import ManifestRejected
from ballot.core.rules import (
    ApprovalPollRule,
    BordaRule,
    GreedyNoSkipRule,
    GreedyRule,
    GreedyThresholdRule,
    MesRule,
    PhragmenRule,
    PluralityRule,
    Rule,
    SafeInt,
    SurveyRule,
)
from ballot.core.survey import SurveySpec
from ballot.core.trustees import TrusteesConfig

__all__ = [
    "POLL_RULES",
    "REAL_KEY_BITS",
    "RULES_FOR_KIND",
    "ApprovalPollRule",
    "ApprovalSpec",
    "BallotSpec",
    "BordaRule",
    "ChoiceSpec",
    "CumulativeSpec",
    "ElectionConfig",
    "Electorate",
    "Eligibility",
    "GreedyNoSkipRule",
    "GreedyRule",
    "GreedyThresholdRule",
    "MesRule",
    "OrdinalSpec",
    "PhragmenRule",
    "PluralityRule",
    "Problem",
    "ProjectSpec",
    "Rule",
    "SurveyRule",
    "SurveySpec",
    "Window",
    "ballot_kind",
    "format_time",
    "has_trustees",
    "is_poll",
    "is_survey",
    "is_test",
    "parse_config",
    "parse_time",
    "rule_name",
    "shape_error",
    "to_json",
]

TEST_KEY_BITS = (MIN_KEY_BITS,)
# The smallest credential key of a real (not test) election: the verifier refuses less.
REAL_KEY_BITS = 2048
MAX_TITLE_LENGTH = 200

POLL_RULES = frozenset({"plurality", "approval", "borda"})
_GREEDY = ("greedy", "greedy-no-skip", "greedy-threshold")
RULES_FOR_KIND: dict[str, tuple[str, ...]] = {
    "approval": (*_GREEDY, "mes", "phragmen"),
    "cumulative": (*_GREEDY, "mes"),
    "ordinal": (*_GREEDY, "borda"),
    "choice": ("plurality", "approval"),
    "survey": ("survey",),
}

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PROPOSAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_MAX_SLUG = 64


class Problem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One inconsistency in a configuration: the field, a stable code and a sentence."""

    field: str
    code: str
    detail: str


# --- configuration ---------------------------------------------------------------------


class ProjectSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A project (or, in a poll, an option). ``cost`` is in minor units; 0 in a poll."""

    id: str
    title: str
    cost: SafeInt = 0
    proposal: str | None = None


class ApprovalSpec(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="kind", tag="approval",
):  # fmt: skip
    """``{"approve": [ids]}`` with ``min_projects..max_projects`` ids; with
    ``max_total_cost`` their costs may add up to at most that (a knapsack ballot), and
    with ``min_budget_share`` to at least that percentage of the budget."""

    min_projects: SafeInt
    max_projects: SafeInt
    max_total_cost: SafeInt | None = None
    min_budget_share: SafeInt | None = None


class CumulativeSpec(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="kind", tag="cumulative",
):  # fmt: skip
    """``{"points": {id: n}}``: at most ``total_points`` in all, ``max_per_project`` each."""

    total_points: SafeInt
    max_per_project: SafeInt


class OrdinalSpec(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="kind", tag="ordinal",
):  # fmt: skip
    """``{"rank": [ids]}``, most preferred first, ``min_length..max_length`` long."""

    max_length: SafeInt
    min_length: SafeInt = 1


class ChoiceSpec(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="kind", tag="choice",
):  # fmt: skip
    """``{"choose": [option ids]}`` with ``min_options..max_options`` (1/1: single choice)."""

    min_options: SafeInt
    max_options: SafeInt


BallotSpec = ApprovalSpec | CumulativeSpec | OrdinalSpec | ChoiceSpec | SurveySpec


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Voting is open for ``opens_at <= now < closes_at`` (RFC 3339 UTC, seconds)."""

    opens_at: str
    closes_at: str


class Electorate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The eligible set fixed when the election opened (docs/protocol.md §6.11): how many
    voters, and ``hex(SHA-256(c_1 || … || c_n))`` over their 32-byte commitments
    (HMAC-SHA256 under a server secret) sorted bytewise. No personal data."""

    size: SafeInt
    commitments: str


class Eligibility(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """Who may obtain a credential (docs/protocol.md §5.2, §6.6):

    - ``roll``: an entry of the roll the municipality imported, reached by an account
      whose e-mail address is the entry's and is **confirmed**;
    - ``access_codes``: an entry of that roll, reached by its one-time access code;
    - ``residents``: an account that staff **verified** as a resident of the district.

    An election admits its roll (``roll`` and/or ``access_codes``) or verified residents,
    not both (``mixed_eligibility``: a person could be in both and vote twice). A
    configuration may leave a flag out (false). ``electorate`` is set by opening, never
    by a configuration; a manifest without it was opened by a release before 0.2, whose
    rules were weaker (§12). The three flags are always written; ``electorate`` only
    when set, so those older manifests keep their bytes."""

    residents: bool
    roll: bool
    access_codes: bool
    electorate: Electorate | None = None


class ElectionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What an admin submits to configure an election (checked by ``validate_config``)."""

    id: str
    title: str
    district: str
    budget: SafeInt = 0
    currency: str = ""
    projects: list[ProjectSpec]
    ballot: BallotSpec
    rule: Rule
    tie_break: Literal["cost-votes-lot", "order"] = "cost-votes-lot"
    window: Window
    eligibility: Eligibility
    rsa_key_bits: SafeInt = 2048
    revoting: bool = True
    # A test election (docs/protocol.md §5.2): written ``"test": true`` or left out, never
    # ``false``, so that a manifest has one encoding. Only deployments that allow test
    # keys accept it, and only a test election may use a key under 2048 bits.
    test: Literal[True] | msgspec.UnsetType = msgspec.UNSET
    # Trustees (docs/protocol.md §14.2): k of n release the key at the close; left out
    # (never written) for an election whose server holds the sealing key.
    trustees: TrusteesConfig | msgspec.UnsetType = msgspec.UNSET


# --- small helpers ----------------------------------------------------------------------


def ballot_kind(spec: BallotSpec) -> str:
    """The ballot kind named by a limits struct (its tag)."""
    return str(type(spec).__struct_config__.tag)


def rule_name(rule: Rule) -> str:
    """The rule's name (its tag)."""
    return str(type(rule).__struct_config__.tag)


def is_test(config: ElectionConfig) -> bool:
    """Marked as a test election (``"test": true``)."""
    return config.test is True


def has_trustees(config: ElectionConfig) -> bool:
    """An election whose sealing key is the trustees' joint key (docs/protocol.md §14)."""
    return config.trustees is not msgspec.UNSET


def is_poll(config: ElectionConfig) -> bool:
    """A poll: options without money, counted by a poll rule."""
    return rule_name(config.rule) in POLL_RULES


def is_survey(config: ElectionConfig) -> bool:
    """A survey: several questions, counted by the ``survey`` rule (docs/protocol.md §19)."""
    return isinstance(config.ballot, SurveySpec)


def parse_time(text: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` strictly; ``ValueError`` otherwise."""
    if not isinstance(text, str) or _TIME.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a UTC time written YYYY-MM-DDTHH:MM:SSZ")
    # The pattern fixed the form; fromisoformat checks the date (and is fast).
    return datetime.fromisoformat(text)


def format_time(moment: datetime) -> str:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (sub-seconds dropped)."""
    if moment.tzinfo is None:
        raise ValueError("the time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(value: Any) -> Any:
    """``msgspec.to_builtins`` output with tuples as lists: the JSON value itself."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def to_json(struct: msgspec.Struct) -> Any:
    """A struct as its JSON value (dicts, lists, str, int, bool, None)."""
    return _plain(msgspec.to_builtins(struct))


def _field_of(message: str) -> str:
    match = re.search(r" - at `\$\.?(.*)`$", message)
    if match is None:
        unknown = re.search(r"unknown field `([^`]*)`", message)
        return unknown.group(1) if unknown else ""
    path = match.group(1)
    unknown = re.match(r"Object contains unknown field `([^`]*)`", message)
    if unknown:
        path = f"{path}.{unknown.group(1)}" if path else unknown.group(1)
    return path


def shape_error(code: str, what: str, exc: msgspec.ValidationError, data: object) -> NoReturn:
    """Raise ``ManifestRejected(code, ...)`` for msgspec's refusal of ``data``, naming the
    field (shared by ``parse_config`` and ``ballot.core.manifest.parse_manifest``)."""
    message = str(exc)
    field = _field_of(message)
    detail = f"{what}: {message}"
    unknown = re.match(r"Object contains unknown field `([^`]*)`", message)
    if unknown and field.startswith(("rule.", "ballot.")) and isinstance(data, Mapping):
        section = field.split(".")[0]
        inner = data.get(section)
        tag = (
            inner.get("name" if section == "rule" else "kind")
            if isinstance(inner, Mapping)
            else None
        )
        noun = "rule" if section == "rule" else "ballot kind"
        detail = f"{unknown.group(1)!r} does not apply to the {noun} {tag!r}"
    raise ManifestRejected(code, detail, field)


def parse_config(data: object) -> ElectionConfig:
    """Read a configuration dict strictly (types, no unknown fields); semantic checks are
    ``validate_config``'s. ``ManifestRejected("malformed_config", ..., field)``."""
    if isinstance(data, Mapping) and isinstance(data.get("eligibility"), Mapping):
        # A configuration may leave an eligibility flag out: false.
        flags = {"residents": False, "roll": False, "access_codes": False}
        data = {**data, "eligibility": {**flags, **data["eligibility"]}}
    try:
        return msgspec.convert(data, ElectionConfig, strict=True)
    except msgspec.ValidationError as exc:
        shape_error("malformed_config", "the configuration is malformed", exc, data)
