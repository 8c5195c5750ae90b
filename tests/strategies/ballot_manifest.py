"""Hypothesis strategies for election configurations and the choices voters make.

``elections(kind)`` gives valid configurations of one ballot kind (small, so that every
subset of projects can be enumerated); ``valid_choices(config)`` gives choices that
election must accept and ``invalid_choices(config)`` gives ``(code, choices)`` pairs:
choices built to break exactly one rule, with the code they must be refused with.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from ballot.core.config import (
    ApprovalSpec,
    ChoiceSpec,
    CumulativeSpec,
    ElectionConfig,
    OrdinalSpec,
    parse_config,
)
from ballot.core.config_checks import check_config

KINDS = ("approval", "cumulative", "ordinal", "choice")
UNKNOWN_ID = "not-on-the-ballot"
OTHER_KEYS = {"approval": "approve", "cumulative": "points", "ordinal": "rank", "choice": "choose"}


def base_config(**overrides: Any) -> dict[str, Any]:
    """A valid approval election as a dict; keyword arguments replace top-level fields."""
    config: dict[str, Any] = {
        "id": "spring-2027",
        "title": "Spring budget 2027",
        "district": "north",
        "budget": 100_000,
        "currency": "RUB",
        "projects": [
            {"id": "park", "title": "A park by the river", "cost": 40_000, "proposal": "p-17"},
            {"id": "library", "title": "Library hours", "cost": 25_000},
            {"id": "bike-lane", "title": "Bike lane", "cost": 60_000},
        ],
        "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 3},
        "rule": {"name": "greedy"},
        "tie_break": "cost-votes-lot",
        "window": {"opens_at": "2027-03-01T08:00:00Z", "closes_at": "2027-03-15T20:00:00Z"},
        "eligibility": {"residents": True, "roll": False, "access_codes": True},
        "rsa_key_bits": 2048,
        "revoting": True,
    }
    config.update(overrides)
    return config


def _config(
    kind: str, costs: list[int], budget: int, ballot: dict[str, Any], rule: dict[str, Any]
) -> ElectionConfig:
    projects = [
        {"id": f"p{i}", "title": f"Project {i}", "cost": cost} for i, cost in enumerate(costs)
    ]
    data = base_config(
        projects=projects,
        budget=budget,
        currency="RUB" if budget else "",
        ballot={"kind": kind, **ballot},
        rule=rule,
    )
    config = parse_config(data)
    check_config(config)
    return config


def approval_subsets(config: ElectionConfig) -> list[tuple[str, ...]]:
    """Every subset of the projects (in project order), for brute-force searches."""
    ids = [p.id for p in config.projects]
    return [c for r in range(len(ids) + 1) for c in itertools.combinations(ids, r)]


def _spent(config: ElectionConfig, ids: tuple[str, ...]) -> int:
    cost = {p.id: p.cost for p in config.projects}
    return sum(cost[i] for i in ids)


def approval_is_valid(config: ElectionConfig, ids: tuple[str, ...]) -> bool:
    """The approval limits, written out plainly (an independent statement of
    docs/protocol.md, "Ballot kinds")."""
    spec = config.ballot
    assert isinstance(spec, ApprovalSpec)
    spent = _spent(config, ids)
    return (
        spec.min_projects <= len(ids) <= spec.max_projects
        and (spec.max_total_cost is None or spent <= spec.max_total_cost)
        and (spec.min_budget_share is None or spent * 100 >= spec.min_budget_share * config.budget)
    )


@st.composite
def _approval(draw: st.DrawFn) -> ElectionConfig:
    n = draw(st.integers(1, 7))
    costs = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    budget = draw(st.integers(max(costs), 2 * sum(costs)))
    max_projects = draw(st.integers(1, n))
    min_projects = draw(st.integers(0, max_projects))
    ballot: dict[str, Any] = {"min_projects": min_projects, "max_projects": max_projects}
    if draw(st.integers(0, 3)):  # mostly knapsack ballots: they have the most limits
        cheapest = sum(sorted(costs)[:min_projects])
        limit = draw(st.integers(max(max(costs), cheapest), max(budget, max(costs), cheapest)))
        if limit <= budget:
            ballot["max_total_cost"] = limit
            if draw(st.integers(0, 2)):
                dearest = sum(sorted(costs, reverse=True)[:max_projects])
                top = min(100, min(limit, dearest) * 100 // budget)
                ballot["min_budget_share"] = draw(st.integers(0, top))
    rules: list[dict[str, Any]] = [
        {"name": "greedy"},
        {"name": "mes", "satisfaction": "cardinality", "completion": "add1"},
        {"name": "phragmen"},
        {"name": "greedy-threshold", "threshold": 2},
    ]
    rule = draw(st.sampled_from(rules))
    config = _config("approval", costs, budget, ballot, rule)
    if not any(approval_is_valid(config, s) for s in approval_subsets(config)):
        # The limits pass every necessary check, yet no subset meets them all.
        reject()
    return config


@st.composite
def _cumulative(draw: st.DrawFn) -> ElectionConfig:
    n = draw(st.integers(1, 6))
    costs = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    per = draw(st.integers(1, 5))
    total = draw(st.integers(per, per * n))
    ballot = {"total_points": total, "max_per_project": per}
    rule = draw(st.sampled_from([{"name": "greedy"}, {"name": "mes"}]))
    return _config("cumulative", costs, max(costs) + sum(costs), ballot, rule)


@st.composite
def _ordinal(draw: st.DrawFn) -> ElectionConfig:
    n = draw(st.integers(1, 7))
    costs = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    max_length = draw(st.integers(1, n))
    ballot = {"max_length": max_length, "min_length": draw(st.integers(0, max_length))}
    return _config("ordinal", costs, sum(costs), ballot, {"name": "greedy"})


@st.composite
def _choice(draw: st.DrawFn) -> ElectionConfig:
    n = draw(st.integers(2, 7))
    plurality = draw(st.booleans())
    max_options = 1 if plurality else draw(st.integers(1, n))
    ballot = {"min_options": draw(st.integers(0, max_options)), "max_options": max_options}
    rule = {"name": "plurality" if plurality else "approval", "seats": 1}
    return _config("choice", [0] * n, 0, ballot, rule)


_ELECTIONS = {"approval": _approval, "cumulative": _cumulative, "ordinal": _ordinal}


def elections(kind: str) -> st.SearchStrategy[ElectionConfig]:
    """Valid configurations with ``kind`` ballots."""
    return _ELECTIONS.get(kind, _choice)()


def _ids(config: ElectionConfig) -> list[str]:
    return [p.id for p in config.projects]


@st.composite
def valid_choices(draw: st.DrawFn, config: ElectionConfig) -> dict[str, Any]:
    """Choices ``config`` must accept."""
    spec = config.ballot
    ids = _ids(config)
    if isinstance(spec, ApprovalSpec):
        subset = draw(
            st.sampled_from([s for s in approval_subsets(config) if approval_is_valid(config, s)])
        )
        return {"approve": draw(st.permutations(list(subset)))}
    if isinstance(spec, CumulativeSpec):
        chosen = draw(st.lists(st.sampled_from(ids), unique=True))
        points: dict[str, int] = {}
        left = spec.total_points
        for pid in chosen:
            if left < 1:
                break
            n = draw(st.integers(1, min(spec.max_per_project, left)))
            points[pid] = n
            left -= n
        return {"points": points}
    if isinstance(spec, OrdinalSpec):
        size = draw(st.integers(spec.min_length, spec.max_length))
        return {"rank": draw(st.permutations(ids))[:size]}
    assert isinstance(spec, ChoiceSpec)
    size = draw(st.integers(spec.min_options, spec.max_options))
    return {"choose": draw(st.permutations(ids))[:size]}


def _list_mutations(
    draw: st.DrawFn, config: ElectionConfig, key: str, low: int, high: int
) -> list[tuple[str, dict[str, Any]]]:
    ids = _ids(config)
    valid = draw(valid_choices(config))[key]
    out: list[tuple[str, dict[str, Any]]] = []
    where = draw(st.integers(0, len(valid)))
    out.append(("unknown_project", {key: [*valid[:where], UNKNOWN_ID, *valid[where:]]}))
    if valid:
        out.append(("duplicate_project", {key: [*valid, draw(st.sampled_from(valid))]}))
    shuffled = draw(st.permutations(ids))
    if low >= 1:
        out.append(("too_few_projects", {key: shuffled[: draw(st.integers(0, low - 1))]}))
    if high < len(ids):
        out.append(("too_many_projects", {key: shuffled[: draw(st.integers(high + 1, len(ids)))]}))
    return out


def _approval_mutations(
    draw: st.DrawFn, config: ElectionConfig
) -> list[tuple[str, dict[str, Any]]]:
    spec = config.ballot
    assert isinstance(spec, ApprovalSpec)
    out = _list_mutations(draw, config, "approve", spec.min_projects, spec.max_projects)
    in_range = [
        s for s in approval_subsets(config) if spec.min_projects <= len(s) <= spec.max_projects
    ]
    limit = spec.max_total_cost
    over = [s for s in in_range if limit is not None and _spent(config, s) > limit]
    if over:
        out.append(("over_budget", {"approve": list(draw(st.sampled_from(over)))}))
    share = spec.min_budget_share
    under = [
        s
        for s in in_range
        if share is not None
        and (limit is None or _spent(config, s) <= limit)
        and _spent(config, s) * 100 < share * config.budget
    ]
    if under:
        out.append(("under_min_spend", {"approve": list(draw(st.sampled_from(under)))}))
    return out


def _cumulative_mutations(
    draw: st.DrawFn, config: ElectionConfig
) -> list[tuple[str, dict[str, Any]]]:
    spec = config.ballot
    assert isinstance(spec, CumulativeSpec)
    ids = _ids(config)
    valid: dict[str, Any] = draw(valid_choices(config))["points"]
    pid = draw(st.sampled_from(ids))
    bad_value = draw(st.sampled_from([True, False, "1", 1.5, None, [1]]))
    out: list[tuple[str, dict[str, Any]]] = [
        ("unknown_project", {"points": {**valid, UNKNOWN_ID: 1}}),
        ("not_an_integer", {"points": {**valid, pid: bad_value}}),
        ("zero_points", {"points": {**valid, pid: 0}}),
        ("negative_points", {"points": {**valid, pid: -draw(st.integers(1, 10))}}),
        (
            "points_per_project_exceeded",
            {"points": {**valid, pid: spec.max_per_project + draw(st.integers(1, 10))}},
        ),
    ]
    if spec.max_per_project * len(ids) > spec.total_points:
        out.append(("too_many_points", {"points": dict.fromkeys(ids, spec.max_per_project)}))
    return out


CODES_BY_KIND = {
    "approval": (
        "wrong_ballot_kind", "malformed_choices", "unknown_project", "duplicate_project",
        "too_few_projects", "too_many_projects", "over_budget", "under_min_spend",
    ),
    "cumulative": (
        "wrong_ballot_kind", "malformed_choices", "unknown_project", "not_an_integer",
        "zero_points", "negative_points", "points_per_project_exceeded", "too_many_points",
    ),
    "ordinal": (
        "wrong_ballot_kind", "malformed_choices", "unknown_project", "duplicate_project",
        "too_few_projects", "too_many_projects",
    ),
    "choice": (
        "wrong_ballot_kind", "malformed_choices", "unknown_project", "duplicate_project",
        "too_few_projects", "too_many_projects",
    ),
}  # fmt: skip


@st.composite
def invalid_choices(
    draw: st.DrawFn, config: ElectionConfig, code: str | None = None
) -> tuple[str, object]:
    """``(code, choices)``: choices that break one rule and the code that names it.

    With ``code``, only that failure (the example is rejected when this election cannot
    have it, e.g. ``too_many_projects`` when every project may be chosen)."""
    spec = config.ballot
    kind = {ApprovalSpec: "approval", CumulativeSpec: "cumulative", OrdinalSpec: "ordinal"}.get(
        type(spec), "choice"
    )
    key = OTHER_KEYS[kind]
    other = draw(st.sampled_from([k for k in OTHER_KEYS.values() if k != key]))
    out: list[tuple[str, object]] = [
        ("wrong_ballot_kind", {other: []}),
        ("malformed_choices", draw(st.sampled_from([[], "x", None, {}, {key: "p0"}, {key: [0]}]))),
        ("malformed_choices", {key: [] if kind != "cumulative" else {}, "extra": 1}),
    ]
    if isinstance(spec, ApprovalSpec):
        out += _approval_mutations(draw, config)
    elif isinstance(spec, CumulativeSpec):
        out += _cumulative_mutations(draw, config)
    elif isinstance(spec, OrdinalSpec):
        out += _list_mutations(draw, config, "rank", spec.min_length, spec.max_length)
    else:
        assert isinstance(spec, ChoiceSpec)
        out += _list_mutations(draw, config, "choose", spec.min_options, spec.max_options)
    if code is not None:
        out = [item for item in out if item[0] == code]
        if not out:
            reject()
    return draw(st.sampled_from(out))
