"""Checking an election's configuration: every inconsistency, each with its field.

``validate_config`` lists the problems of a parsed ``ElectionConfig``
(``ballot.core.config``): titles and ids, the ballot's limits for its kind, the rule and
its options, money, the window, eligibility and the key size (docs/protocol.md §5.6);
``check_config`` raises ``ManifestRejected`` naming the first.
"""

from __future__ import annotations

import re
import unicodedata

import msgspec

from audit.core.canonical import CanonicalError, check_value
from ballot.core.blind import ELECTION_KEY_BITS
from ballot.core.config import (
    _CURRENCY,
    _MAX_SLUG,
    _PROPOSAL_ID,
    _SLUG,
    MAX_TITLE_LENGTH,
    RULES_FOR_KIND,
    TEST_KEY_BITS,
    ApprovalPollRule,
    ApprovalSpec,
    BordaRule,
    ChoiceSpec,
    CumulativeSpec,
    ElectionConfig,
    GreedyThresholdRule,
    MesRule,
    OrdinalSpec,
    PluralityRule,
    Problem,
    SurveySpec,
    ballot_kind,
    is_poll,
    is_test,
    parse_time,
    rule_name,
    to_json,
)
from ballot.core.errors import ManifestRejected
from ballot.core.survey import budget_question, survey_problems
from ballot.core.trustees import trustees_problems

_HEX64 = re.compile(r"[0-9a-f]{64}")

__all__ = ["check_config", "validate_config"]


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
    elif isinstance(spec, SurveySpec):
        survey_problems(
            out.add,
            spec,
            n,
            lambda field, value, what: _check_slug(out, field, value, what),
            lambda field, value, what: _check_title(out, field, value, what),
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


def _check_survey_money(out: _Problems, config: ElectionConfig, spec: SurveySpec) -> None:
    """A survey has money only with a budget question (docs/protocol.md §19.1), whose
    ``max_total_cost`` is checked against the budget and the projects as an approval
    ballot's is."""
    question = budget_question(spec)
    if question is not None:
        limit = question.max_total_cost
        field = f"ballot.questions[{spec.questions.index(question)}].max_total_cost"
        if limit is not None and limit >= 1:
            if config.budget > 0 and limit > config.budget:
                out.add(
                    field,
                    "limit_over_budget",
                    f"max_total_cost ({limit}) is more than the budget ({config.budget})",
                )
            for i, p in enumerate(config.projects):
                if p.cost > limit:
                    out.add(
                        f"projects[{i}].cost",
                        "project_over_limit",
                        f"project {p.id!r} costs {p.cost}, more than a ballot may spend "
                        f"(max_total_cost {limit}), so nobody could vote for it",
                    )
        return
    if config.budget != 0:
        out.add("budget", "survey_has_budget", "a survey without a budget question has budget 0")
    if config.currency:
        out.add(
            "currency", "survey_has_currency", "a survey without a budget question has no currency"
        )
    if config.projects:
        out.add(
            "projects", "survey_has_projects", "a survey without a budget question has no projects"
        )


def _check_money(out: _Problems, config: ElectionConfig) -> None:
    if isinstance(config.ballot, SurveySpec):
        _check_survey_money(out, config, config.ballot)
        if budget_question(config.ballot) is None:
            return
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


def validate_config(
    config: ElectionConfig, *, allow_test_keys: bool = False, new_election: bool = False
) -> list[Problem]:
    """Every inconsistency of ``config``, each naming its field; empty when usable.

    ``allow_test_keys`` admits RSA keys of ``MIN_KEY_BITS`` (tests only).
    ``new_election``: the configuration of an election to be made now, which must
    follow today's eligibility rules (``mixed_eligibility``, no ``electorate``), as must
    every manifest that commits its electorate; a manifest of an earlier release without
    one is read under the rules it was made with."""
    out = _Problems()
    _check_slug(out, "id", config.id, "election id")
    _check_title(out, "title", config.title, "title")
    _check_slug(out, "district", config.district, "district code")
    poll = is_poll(config)
    needs_projects = (
        not isinstance(config.ballot, SurveySpec) or budget_question(config.ballot) is not None
    )
    if needs_projects and len(config.projects) < (2 if poll else 1):
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
    if (new_election or e.electorate is not None) and e.residents and (e.roll or e.access_codes):
        out.add(
            "eligibility",
            "mixed_eligibility",
            "an election admits either its roll (roll, access_codes) or residents verified "
            "by staff, not both: a person could be in both and obtain two credentials",
        )
    if new_election and e.electorate is not None:
        out.add(
            "eligibility.electorate",
            "electorate_set",
            "the electorate is fixed when the election opens; leave it out",
        )
    if e.electorate is not None:
        if not e.electorate.size >= 0:
            out.add("eligibility.electorate.size", "bad_electorate", "the size is negative")
        if _HEX64.fullmatch(e.electorate.commitments) is None:
            out.add(
                "eligibility.electorate.commitments",
                "bad_electorate",
                "the commitments are a lowercase hex SHA-256",
            )
    _check_keys_and_test(out, config, allow_test_keys)
    if not isinstance(config.trustees, msgspec.UnsetType):
        for field, code, detail in trustees_problems(
            config.trustees.threshold, config.trustees.members
        ):
            out.add(field, code, detail)
    try:
        check_value(to_json(config))
    except CanonicalError as exc:
        out.add("", "not_canonical", exc.detail)
    return out.items


def _check_keys_and_test(out: _Problems, config: ElectionConfig, allow_test_keys: bool) -> None:
    """The key size, and the test flag (docs/protocol.md §5.2, §5.6): test keys and test
    elections exist only on deployments that allow test keys."""
    allowed = ELECTION_KEY_BITS + (TEST_KEY_BITS if allow_test_keys else ())
    if config.rsa_key_bits not in allowed:
        out.add(
            "rsa_key_bits",
            "bad_key_size",
            f"the credential key must have {' or '.join(map(str, ELECTION_KEY_BITS))} bits",
        )
    if is_test(config) and not allow_test_keys:
        out.add(
            "test",
            "test_not_allowed",
            'this deployment does not run test elections; leave out "test"',
        )


def check_config(
    config: ElectionConfig, *, allow_test_keys: bool = False, new_election: bool = False
) -> None:
    """Raise ``ManifestRejected`` for the first problem ``validate_config`` finds."""
    problems = validate_config(config, allow_test_keys=allow_test_keys, new_election=new_election)
    if problems:
        first = problems[0]
        raise ManifestRejected(first.code, first.detail, first.field)
