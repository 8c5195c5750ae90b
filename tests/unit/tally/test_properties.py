"""Properties of every rule on generated elections."""

from __future__ import annotations

import random
from itertools import combinations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally import (
    Ballot,
    Election,
    PabulibFile,
    RuleConfig,
    TieBreak,
    compute,
    read_pb,
    write_pb,
)
from tests.strategies.tally import approval_elections, cumulative_elections, pabulib_files

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BUDGET_RULES = [
    RuleConfig(rule="greedy"),
    RuleConfig(rule="greedy-no-skip"),
    RuleConfig(rule="greedy-threshold", threshold=2),
    RuleConfig(rule="phragmen"),
    RuleConfig(rule="mes"),
    RuleConfig(rule="mes", satisfaction="cardinality", completion="add1-greedy"),
    RuleConfig(rule="mes", completion="add1", add1_exhaustive_stop=False),
    RuleConfig(rule="mes", completion="add1", comparison="satisfaction"),
    RuleConfig(rule="mes", completion="greedy", comparison="exclusion"),
    RuleConfig(rule="mes", min_vote_share="1/3", completion="add1", add1_start="integral"),
    RuleConfig(rule="mes", eligibility_ratio="1/3", completion="add1-greedy"),
]


@FAST
@given(approval_elections(), st.sampled_from(BUDGET_RULES))
def test_budget_is_never_exceeded(
    instance: tuple[Election, list[Ballot]], config: RuleConfig
) -> None:
    election, ballots = instance
    outcome = compute(election, ballots, config)
    cost = {p.id: p.cost for p in election.projects}
    assert outcome.spent == sum(cost[w] for w in outcome.winners) <= election.budget
    assert len(set(outcome.winners)) == len(outcome.winners)


@FAST
@given(cumulative_elections(), st.sampled_from(BUDGET_RULES[:3] + BUDGET_RULES[4:7]))
def test_budget_is_never_exceeded_cumulative(
    instance: tuple[Election, list[Ballot]], config: RuleConfig
) -> None:
    election, ballots = instance
    outcome = compute(election, ballots, config)
    assert outcome.spent <= election.budget


def _supported(election: Election, ballots: list[Ballot]) -> set[str]:
    out: set[str] = set()
    for b in ballots:
        out.update(getattr(b, "approve", ()) or getattr(b, "points", {}))
    return out


@FAST
@given(
    approval_elections(),
    st.sampled_from(["greedy", "add1", "add1-greedy"]),
    st.sampled_from(["cost", "cardinality"]),
)
def test_mes_completion_is_exhaustive_when_it_says_so(
    instance: tuple[Election, list[Ballot]], completion: str, satisfaction: str
) -> None:
    election, ballots = instance
    config = RuleConfig(rule="mes", completion=completion, satisfaction=satisfaction)  # type: ignore[arg-type]
    outcome = compute(election, ballots, config)
    left = election.budget - outcome.spent
    supported = _supported(election, ballots)
    exhaustive = all(
        p.cost > left
        for p in election.projects
        if p.id in supported and p.id not in outcome.winners
    )
    assert outcome.options["exhaustive"] == str(exhaustive).lower()
    if completion != "add1" and ballots:
        assert exhaustive


def _ejr_up_to_one_violation(
    election: Election, ballots: list[Ballot], winners: list[str], satisfaction: str
) -> tuple[str, ...] | None:
    """Brute force: a set T and a large enough group of voters who all approve T, none
    of whom is satisfied with W up to one project of T; ``None`` if there is none."""
    cost = {p.id: p.cost for p in election.projects}
    n = len(ballots)
    w = set(winners)

    def util(approved: set[str], xs: set[str]) -> int:
        return sum(cost[x] if satisfaction == "cost" else 1 for x in xs & approved)

    ids = [p.id for p in election.projects]
    approvals = [set(b.approve) for b in ballots]  # type: ignore[union-attr]
    for k in range(1, len(ids) + 1):
        for t in combinations(ids, k):
            ts = set(t)
            if sum(cost[x] for x in t) > election.budget:
                continue
            unhappy = 0
            for a in approvals:
                if not ts <= a:
                    continue
                have, want = util(a, w), util(a, ts)
                if have >= want:
                    continue
                if any(util(a, w | {p}) > want for p in ts - w):
                    continue
                unhappy += 1
            # the group of unhappy voters deserves T if its share of the budget pays for T
            if unhappy and unhappy * election.budget >= n * sum(cost[x] for x in t):
                return t
    return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    approval_elections(max_projects=5, max_voters=9),
    st.sampled_from(["cost", "cardinality"]),
    st.sampled_from(["none", "add1"]),
)
def test_mes_satisfies_ejr_up_to_one_project(
    instance: tuple[Election, list[Ballot]], satisfaction: str, completion: str
) -> None:
    election, ballots = instance
    config = RuleConfig(rule="mes", satisfaction=satisfaction, completion=completion)  # type: ignore[arg-type]
    outcome = compute(election, ballots, config)
    assert _ejr_up_to_one_violation(election, ballots, outcome.winners, satisfaction) is None


def test_the_ejr_checker_finds_a_violation_in_greedy() -> None:
    # 3 voters want a–d, 2 voters want e, f; every project costs 1 and the budget is 4.
    # Greedy by votes spends it all on the majority; the minority's share (2/5 of 4) would
    # pay for one of its projects, so greedy violates EJR up to one project; MES does not.
    from tally import ApprovalBallot, Project

    election = Election(tuple(Project(x, 1) for x in "abcdef"), 4)
    ballots: list[Ballot] = [ApprovalBallot(tuple("abcd"))] * 3 + [ApprovalBallot(("e", "f"))] * 2
    greedy = compute(election, ballots, RuleConfig(rule="greedy")).winners
    assert set(greedy) == set("abcd")
    assert _ejr_up_to_one_violation(election, ballots, greedy, "cost") == ("e",)
    mes = compute(election, ballots, RuleConfig(rule="mes")).winners
    assert _ejr_up_to_one_violation(election, ballots, mes, "cost") is None


@FAST
@given(pabulib_files())
def test_pabulib_write_then_read_is_the_identity(pf: PabulibFile) -> None:
    again = read_pb(write_pb(pf))
    assert again.election == pf.election
    assert again.ballots == pf.ballots
    assert again.voter_ids == pf.voter_ids
    assert again.project_extra == pf.project_extra
    # a file with no other vote columns reads as no extra values at all
    assert again.vote_extra == (pf.vote_extra if pf.vote_columns else [])
    assert {k: again.meta[k] for k in pf.meta} == pf.meta
    # and a file Veche wrote reads back exactly
    assert read_pb(write_pb(again)) == again


@FAST
@given(
    approval_elections(max_voters=10),
    st.sampled_from(BUDGET_RULES),
    st.randoms(use_true_random=False),
)
def test_permuting_voters_changes_nothing(
    instance: tuple[Election, list[Ballot]], config: RuleConfig, rnd: random.Random
) -> None:
    election, ballots = instance
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert compute(election, shuffled, config) == compute(election, ballots, config)


@FAST
@given(approval_elections(), st.sampled_from(BUDGET_RULES), st.binary(max_size=8))
def test_outcome_round_trips_through_json(
    instance: tuple[Election, list[Ballot]], config: RuleConfig, seed: bytes
) -> None:
    election, ballots = instance
    config = msgspec.structs.replace(config, tie_break=TieBreak(seed=seed))
    outcome = compute(election, ballots, config)
    data = msgspec.json.encode(outcome)
    assert msgspec.json.decode(data, type=type(outcome)) == outcome
