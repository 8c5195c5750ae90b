"""Election configurations: what an administrator submits, read strictly and checked.

docs/protocol.md, "Elections and ballots" ("Manifest", "Ballot kinds") and "Tally"
(rules, tie-breaks). An election is configured as an ``ElectionConfig`` (JSON, or TOML
read into the same dict: quote the times, TOML would otherwise turn them into dates).
``parse_config`` reads the shape (types, no unknown fields); ``validate_config`` lists
every inconsistency with the field it concerns. Opening the election freezes the
configuration into the signed manifest (``ballot.core.manifest``).

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
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NoReturn

import msgspec

from audit.core.canonical import MAX_SAFE_INTEGER, CanonicalError, check_value
from ballot.core.blind import ELECTION_KEY_BITS, MIN_KEY_BITS
from ballot.core.errors import ManifestRejected

__all__ = [
    "POLL_RULES",
    "RULES_FOR_KIND",
    "ApprovalPollRule",
    "ApprovalSpec",
    "BallotSpec",
    "BordaRule",
    "ChoiceSpec",
    "CumulativeSpec",
    "ElectionConfig",
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
    "Window",
    "ballot_kind",
    "check_config",
    "format_time",
    "is_poll",
    "parse_config",
    "parse_time",
    "rule_name",
    "shape_error",
    "to_json",
    "validate_config",
]

TEST_KEY_BITS = (MIN_KEY_BITS,)
MAX_TITLE_LENGTH = 200

SafeInt = Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]

POLL_RULES = frozenset({"plurality", "approval", "borda"})
_GREEDY = ("greedy", "greedy-no-skip", "greedy-threshold")
RULES_FOR_KIND: dict[str, tuple[str, ...]] = {
    "approval": (*_GREEDY, "mes", "phragmen"),
    "cumulative": (*_GREEDY, "mes"),
    "ordinal": (*_GREEDY, "borda"),
    "choice": ("plurality", "approval"),
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


BallotSpec = ApprovalSpec | CumulativeSpec | OrdinalSpec | ChoiceSpec


class GreedyRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="greedy",
):  # fmt: skip
    """Utilitarian greedy: most votes first, skipping what no longer fits."""


class GreedyNoSkipRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="greedy-no-skip",
):  # fmt: skip
    """Greedy that stops at the first project that does not fit."""


class GreedyThresholdRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="greedy-threshold",
):  # fmt: skip
    """Greedy over the projects whose score reaches ``threshold``."""

    threshold: SafeInt


class MesRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="mes",
):  # fmt: skip
    """The Method of Equal Shares with its options (see ``tally``)."""

    satisfaction: Literal["cost", "cardinality"] = "cost"
    completion: Literal["none", "greedy", "add1", "add1-greedy"] = "none"
    comparison: Literal["none", "satisfaction", "exclusion"] = "none"
    min_vote_share: SafeInt | None = None


class PhragmenRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="phragmen",
):  # fmt: skip
    """Sequential Phragmén."""


class PluralityRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="plurality",
):  # fmt: skip
    """Poll: one vote per ballot; the ``seats`` options with most votes win."""

    seats: SafeInt = 1


class ApprovalPollRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="approval",
):  # fmt: skip
    """Poll: one vote per chosen option; the ``seats`` options with most votes win."""

    seats: SafeInt = 1


class BordaRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="borda",
):  # fmt: skip
    """Poll on ordinal ballots: Borda points; the ``seats`` best options win."""

    seats: SafeInt = 1


Rule = (
    GreedyRule
    | GreedyNoSkipRule
    | GreedyThresholdRule
    | MesRule
    | PhragmenRule
    | PluralityRule
    | ApprovalPollRule
    | BordaRule
)


class Window(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Voting is open for ``opens_at <= now < closes_at`` (RFC 3339 UTC, seconds)."""

    opens_at: str
    closes_at: str


class Eligibility(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Who may obtain a credential: registered residents of the district, people on an
    imported roll, holders of one-time access codes (any combination, at least one)."""

    residents: bool = False
    roll: bool = False
    access_codes: bool = False


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


# --- small helpers ----------------------------------------------------------------------


def ballot_kind(spec: BallotSpec) -> str:
    """The ballot kind named by a limits struct (its tag)."""
    return str(type(spec).__struct_config__.tag)


def rule_name(rule: Rule) -> str:
    """The rule's name (its tag)."""
    return str(type(rule).__struct_config__.tag)


def is_poll(config: ElectionConfig) -> bool:
    """A poll: options without money, counted by a poll rule."""
    return rule_name(config.rule) in POLL_RULES


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
    try:
        return msgspec.convert(data, ElectionConfig, strict=True)
    except msgspec.ValidationError as exc:
        shape_error("malformed_config", "the configuration is malformed", exc, data)


# --- validation ------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str, code: str, detail: str) -> None:
        self.items.append(Problem(field=field, code=code, detail=detail))


def _check_title(out: _Problems, field: str, title: str, what: str) -> None:
    if not title.strip():
        out.add(field, "bad_title", f"the {what} must not be empty")
    elif len(title) > MAX_TITLE_LENGTH:
        out.add(field, "bad_title", f"the {what} is longer than {MAX_TITLE_LENGTH} characters")
    elif any(unicodedata.category(ch) in ("Cc", "Cs") for ch in title):
        out.add(field, "bad_title", f"the {what} contains control characters")


def _check_slug(out: _Problems, field: str, value: str, what: str) -> None:
    if _SLUG.fullmatch(value) is None or len(value) > _MAX_SLUG:
        out.add(
            field,
            "bad_slug",
            f"the {what} must be lowercase letters, digits and single hyphens "
            f"(at most {_MAX_SLUG} characters), not {value!r}",
        )


def _count_limits(
    out: _Problems, low_name: str, low: int, high_name: str, high: int, n: int, noun: str
) -> None:
    if low < 0:
        out.add(f"ballot.{low_name}", "bad_limit", f"{low_name} cannot be negative")
    if high < 1:
        out.add(f"ballot.{high_name}", "bad_limit", f"{high_name} must be at least 1")
    if high < low:
        out.add(
            f"ballot.{high_name}",
            "max_below_min",
            f"{high_name} ({high}) is smaller than {low_name} ({low})",
        )
    if high > n:
        out.add(
            f"ballot.{high_name}",
            "limit_beyond_projects",
            f"{high_name} ({high}) is more than the {n} {noun} on the ballot",
        )
    if low > n:
        out.add(
            f"ballot.{low_name}",
            "limit_beyond_projects",
            f"{low_name} ({low}) is more than the {n} {noun} on the ballot",
        )


def _check_approval(out: _Problems, config: ElectionConfig, spec: ApprovalSpec) -> None:
    n = len(config.projects)
    _count_limits(
        out, "min_projects", spec.min_projects, "max_projects", spec.max_projects, n, "projects"
    )
    costs = sorted(p.cost for p in config.projects)
    limit = spec.max_total_cost
    if limit is not None:
        if limit < 1:
            out.add("ballot.max_total_cost", "bad_limit", "max_total_cost must be positive")
        elif config.budget > 0 and limit > config.budget:
            out.add(
                "ballot.max_total_cost",
                "limit_over_budget",
                f"max_total_cost ({limit}) is more than the budget ({config.budget})",
            )
        else:
            for i, p in enumerate(config.projects):
                if p.cost > limit:
                    out.add(
                        f"projects[{i}].cost",
                        "project_over_limit",
                        f"project {p.id!r} costs {p.cost}, more than a ballot may spend "
                        f"(max_total_cost {limit}), so nobody could vote for it",
                    )
            if 0 <= spec.min_projects <= n and sum(costs[: spec.min_projects]) > limit:
                out.add(
                    "ballot.min_projects",
                    "min_unaffordable",
                    f"the {spec.min_projects} cheapest projects already cost more than "
                    f"max_total_cost ({limit}), so no ballot could be valid",
                )
    share = spec.min_budget_share
    if share is not None:
        if not 0 <= share <= 100:
            out.add(
                "ballot.min_budget_share",
                "bad_percentage",
                "min_budget_share is a percentage 0..100",
            )
        elif limit is None:
            out.add(
                "ballot.min_budget_share",
                "share_needs_knapsack",
                "min_budget_share applies to knapsack ballots: set max_total_cost too",
            )
        elif limit >= 1:
            min_spend = -(-share * config.budget // 100)
            dearest = sum(costs[::-1][: max(spec.max_projects, 0)])
            if min_spend > limit:
                out.add(
                    "ballot.min_budget_share",
                    "share_over_limit",
                    f"{share}% of the budget ({min_spend}) is more than max_total_cost ({limit})",
                )
            elif min_spend > dearest:
                out.add(
                    "ballot.min_budget_share",
                    "share_unreachable",
                    f"{share}% of the budget ({min_spend}) is more than the "
                    f"{spec.max_projects} dearest projects cost together ({dearest})",
                )


def _check_ballot(out: _Problems, config: ElectionConfig) -> None:
    spec = config.ballot
    n = len(config.projects)
    if isinstance(spec, ApprovalSpec):
        _check_approval(out, config, spec)
    elif isinstance(spec, CumulativeSpec):
        if spec.total_points < 1:
            out.add("ballot.total_points", "bad_limit", "total_points must be at least 1")
        if spec.max_per_project < 1:
            out.add("ballot.max_per_project", "bad_limit", "max_per_project must be at least 1")
        if spec.total_points < spec.max_per_project:
            out.add(
                "ballot.max_per_project",
                "max_over_total",
                f"max_per_project ({spec.max_per_project}) is more than total_points "
                f"({spec.total_points})",
            )
        elif spec.max_per_project >= 1 and spec.total_points > spec.max_per_project * n:
            out.add(
                "ballot.total_points",
                "points_unreachable",
                f"total_points ({spec.total_points}) is more than max_per_project × projects "
                f"({spec.max_per_project * n}): no ballot could use them",
            )
    elif isinstance(spec, OrdinalSpec):
        _count_limits(
            out, "min_length", spec.min_length, "max_length", spec.max_length, n, "projects"
        )
    else:
        _count_limits(
            out, "min_options", spec.min_options, "max_options", spec.max_options, n, "options"
        )


def _check_rule(out: _Problems, config: ElectionConfig) -> None:
    kind, name, rule = ballot_kind(config.ballot), rule_name(config.rule), config.rule
    if name not in RULES_FOR_KIND[kind]:
        out.add(
            "rule.name",
            "rule_not_for_kind",
            f"the rule {name!r} cannot count {kind} ballots; "
            f"it may be one of {', '.join(RULES_FOR_KIND[kind])}",
        )
    if isinstance(rule, GreedyThresholdRule) and rule.threshold < 1:
        out.add("rule.threshold", "bad_threshold", "the threshold must be at least 1")
    if (
        isinstance(rule, MesRule)
        and rule.min_vote_share is not None
        and not 0 <= rule.min_vote_share <= 100
    ):
        out.add("rule.min_vote_share", "bad_percentage", "min_vote_share is a percentage 0..100")
    if isinstance(rule, PluralityRule | ApprovalPollRule | BordaRule) and not (
        1 <= rule.seats <= len(config.projects)
    ):
        out.add(
            "rule.seats",
            "bad_seats",
            f"seats must be between 1 and the {len(config.projects)} options",
        )
    if (
        isinstance(rule, PluralityRule)
        and isinstance(config.ballot, ChoiceSpec)
        and config.ballot.max_options != 1
    ):
        out.add(
            "ballot.max_options",
            "plurality_needs_single_choice",
            "plurality counts one option per ballot: set max_options to 1",
        )


def _check_money(out: _Problems, config: ElectionConfig) -> None:
    if is_poll(config):
        if config.budget != 0:
            out.add("budget", "poll_has_budget", "a poll has no budget: set it to 0")
        if config.currency and _CURRENCY.fullmatch(config.currency) is None:
            out.add(
                "currency", "bad_currency", "the currency must be three capital letters (ISO 4217)"
            )
        for i, p in enumerate(config.projects):
            if p.cost != 0:
                out.add(
                    f"projects[{i}].cost", "poll_has_cost", "options of a poll have no cost: set 0"
                )
        return
    if config.budget <= 0:
        out.add("budget", "bad_budget", "the budget must be a positive amount in minor units")
    if _CURRENCY.fullmatch(config.currency) is None:
        out.add(
            "currency",
            "bad_currency",
            f"the currency must be ISO 4217 (three capital letters), not {config.currency!r}",
        )
    for i, p in enumerate(config.projects):
        if p.cost <= 0:
            out.add(
                f"projects[{i}].cost", "bad_cost", f"project {p.id!r} must cost a positive amount"
            )
        elif config.budget > 0 and p.cost > config.budget:
            out.add(
                f"projects[{i}].cost",
                "project_over_budget",
                f"project {p.id!r} costs {p.cost}, more than the whole budget ({config.budget})",
            )


def validate_config(config: ElectionConfig, *, allow_test_keys: bool = False) -> list[Problem]:
    """Every inconsistency of ``config``, each naming its field; empty when usable.

    ``allow_test_keys`` admits RSA keys of ``MIN_KEY_BITS`` (tests only)."""
    out = _Problems()
    _check_slug(out, "id", config.id, "election id")
    _check_title(out, "title", config.title, "title")
    _check_slug(out, "district", config.district, "district code")
    poll = is_poll(config)
    if len(config.projects) < (2 if poll else 1):
        out.add(
            "projects",
            "too_few_projects",
            "a poll needs at least two options" if poll else "the ballot needs a project",
        )
    seen: dict[str, int] = {}
    for i, p in enumerate(config.projects):
        _check_slug(out, f"projects[{i}].id", p.id, "project id")
        if p.id in seen:
            out.add(
                f"projects[{i}].id",
                "duplicate_project",
                f"project id {p.id!r} is already used by projects[{seen[p.id]}]",
            )
        seen.setdefault(p.id, i)
        _check_title(out, f"projects[{i}].title", p.title, "project title")
        if p.proposal is not None and _PROPOSAL_ID.fullmatch(p.proposal) is None:
            out.add(
                f"projects[{i}].proposal",
                "bad_proposal",
                "a proposal id is 1-64 letters, digits, '-' or '_'",
            )
    if rule_name(config.rule) in RULES_FOR_KIND[ballot_kind(config.ballot)]:
        # With a rule that cannot count this ballot it is unknown whether money is meant
        # (budgeting) or not (a poll); the rule problem alone is reported.
        _check_money(out, config)
    _check_ballot(out, config)
    _check_rule(out, config)
    opens = closes = None
    for name in ("opens_at", "closes_at"):
        try:
            moment = parse_time(getattr(config.window, name))
        except ValueError as exc:
            out.add(f"window.{name}", "bad_time", str(exc))
            continue
        opens, closes = (moment, closes) if name == "opens_at" else (opens, moment)
    if opens is not None and closes is not None and closes <= opens:
        out.add("window.closes_at", "bad_window", "voting must close after it opens")
    e = config.eligibility
    if not (e.residents or e.roll or e.access_codes):
        out.add("eligibility", "no_eligibility", "nobody could vote: allow at least one way")
    allowed = ELECTION_KEY_BITS + (TEST_KEY_BITS if allow_test_keys else ())
    if config.rsa_key_bits not in allowed:
        out.add(
            "rsa_key_bits",
            "bad_key_size",
            f"the credential key must have {' or '.join(map(str, ELECTION_KEY_BITS))} bits",
        )
    try:
        check_value(to_json(config))
    except CanonicalError as exc:
        out.add("", "not_canonical", exc.detail)
    return out.items


def check_config(config: ElectionConfig, *, allow_test_keys: bool = False) -> None:
    """Raise ``ManifestRejected`` for the first problem ``validate_config`` finds."""
    problems = validate_config(config, allow_test_keys=allow_test_keys)
    if problems:
        first = problems[0]
        raise ManifestRejected(first.code, first.detail, first.field)
