"""The add1 completion skips raises it can prove change nothing (``tally.mes_add1_skip``):
its outcome must be bit for bit the one of the plain loop that runs MES at every raise of
one currency unit per voter, the reported number of runs included.

The plain loop lives here, as the oracle; elections are generated with long plateaus
(few voters, costs of thousands of units: the plain loop makes hundreds or thousands of
runs), exact ties, cumulative ballots (the general engine) and eligibility rules.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally import (
    ApprovalBallot,
    Ballot,
    CumulativeBallot,
    Election,
    Project,
    RuleConfig,
    TieBreak,
    compute,
    mes,
    mes_add1,
)
from tally.compute import _tie_votes
from tally.mes_add1 import Add1Result, _exhaustive, _spent, add1, skip_for
from tally.mes_approval import ApprovalMes
from tally.mes_engine import MesEngine
from tally.profile import Profile, build_profile
from tally.tiebreak import Ties
from tests.strategies.tally import approval_elections, cumulative_elections

CHECKS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def plain_add1(
    engine: MesEngine | ApprovalMes,
    prof: Profile,
    pool: list[int],
    free: list[int],
    budget: int,
    start: int,
    step: int,
    exhaustive_stop: bool,
    skip: Any,
) -> Add1Result:
    """add1 by the book: one run per raise (the loop before any skipping)."""
    steps = 0
    winners = engine.search(start).winners
    runs = 1
    while not (exhaustive_stop and _exhaustive(prof, pool, free + winners, budget)):
        if len(winners) == len(engine.candidates):
            break
        raised = engine.search(start + (steps + 1) * step).winners
        runs += 1
        if _spent(prof, free + raised) > budget:
            break
        steps += 1
        winners = raised
    return Add1Result(engine.run(start + steps * step, details=True), runs, runs)


def _both(
    election: Election, ballots: list[Ballot], config: RuleConfig, general: bool = False
) -> tuple[bytes, bytes, int]:
    """The outcome with skipping, the outcome of the plain loop (JSON), and the runs the
    skipping loop made."""
    made: list[int] = []
    real = add1

    def counting(*args: Any) -> Add1Result:
        got = real(*args)
        made.append(got.made)
        return got

    with pytest.MonkeyPatch.context() as mp:
        if general:
            mp.setattr(mes, "one_utility", lambda *_: False)
        mp.setattr(mes_add1, "add1", counting)
        fast = compute(election, ballots, config)
        mp.setattr(mes_add1, "add1", plain_add1)
        slow = compute(election, ballots, config)
    return msgspec.json.encode(fast), msgspec.json.encode(slow), sum(made)


@st.composite
def plateau_elections(draw: st.DrawFn, kind: str = "approval") -> tuple[Election, list[Ballot]]:
    """Few voters and costs of hundreds to thousands of units (the unit is 1): the
    per-voter budget must rise a long way before the winners change."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    k = rng.randint(2, 6)
    menu = [100, 250, 300, 450, 600, 900, 1200, 1500, 2400, 3100]
    costs = [rng.choice(menu) for _ in range(k)]
    projects = tuple(Project(f"p{i}", c) for i, c in enumerate(costs))
    budget = max(1, sum(costs) * rng.randint(2, 9) // 10)
    n = rng.randint(1, rng.choice([8, 8, 40]))
    ids = [p.id for p in projects]
    weights = [rng.randint(1, 9) for _ in range(k)]
    ballots: list[Ballot] = []
    for _ in range(n):
        pick = sorted(set(rng.choices(ids, weights, k=rng.randint(1, 4))))
        if kind == "approval":
            ballots.append(ApprovalBallot(tuple(pick)))
        else:
            ballots.append(CumulativeBallot({p: rng.randint(1, 3) for p in pick}))
    return Election(projects, budget, kind=kind), ballots  # type: ignore[arg-type]


def _config(
    satisfaction: str, completion: str, stop: bool, tie: TieBreak, **more: Any
) -> RuleConfig:
    return RuleConfig(
        rule="mes",
        satisfaction=satisfaction,  # type: ignore[arg-type]
        completion=completion,  # type: ignore[arg-type]
        add1_exhaustive_stop=stop,
        tie_break=tie,
        **more,
    )


TIES = [TieBreak(seed=b"s"), TieBreak(method="order")]


@CHECKS
@given(
    plateau_elections(),
    st.sampled_from(["cost", "cardinality"]),
    st.sampled_from(["add1", "add1-greedy"]),
    st.booleans(),
    st.sampled_from(TIES),
)
def test_skipping_gives_the_plain_loops_outcome_on_long_plateaus(
    instance: tuple[Election, list[Ballot]],
    satisfaction: str,
    completion: str,
    stop: bool,
    tie: TieBreak,
) -> None:
    election, ballots = instance
    fast, slow, _ = _both(election, ballots, _config(satisfaction, completion, stop, tie))
    assert fast == slow


@CHECKS
@given(
    approval_elections(max_voters=20),
    st.sampled_from(["cost", "cardinality"]),
    st.booleans(),
    st.sampled_from(["", "1/3"]),
)
def test_skipping_gives_the_plain_loops_outcome_on_small_elections(
    instance: tuple[Election, list[Ballot]], satisfaction: str, stop: bool, share: str
) -> None:
    # Budgets from 1: raises of one unit cross many exact ties and boundaries.
    election, ballots = instance
    config = _config(satisfaction, "add1", stop, TIES[0], min_vote_share=share or None)
    fast, slow, _ = _both(election, ballots, config)
    assert fast == slow


@CHECKS
@given(
    st.one_of(plateau_elections("cumulative"), cumulative_elections()),
    st.sampled_from(["cost", "cardinality"]),
    st.booleans(),
)
def test_skipping_gives_the_plain_loops_outcome_with_points(
    instance: tuple[Election, list[Ballot]], satisfaction: str, stop: bool
) -> None:
    # Different utilities for one project: the general engine.
    election, ballots = instance
    fast, slow, _ = _both(election, ballots, _config(satisfaction, "add1", stop, TIES[0]))
    assert fast == slow


@CHECKS
@given(plateau_elections(), st.booleans())
def test_skipping_gives_the_same_outcome_with_the_general_engine(
    instance: tuple[Election, list[Ballot]], stop: bool
) -> None:
    election, ballots = instance
    fast, slow, _ = _both(election, ballots, _config("cost", "add1", stop, TIES[0]), general=True)
    assert fast == slow


@CHECKS
@given(
    st.one_of(plateau_elections(), approval_elections(max_voters=20)),
    st.sampled_from(["cost", "cardinality"]),
    st.integers(0, 300),
)
def test_every_skipped_raise_makes_the_same_purchases(
    instance: tuple[Election, list[Ballot]], satisfaction: str, offset: int
) -> None:
    # The bound itself: from a run at any budget, every raise it skips is a run with the
    # same purchases (checked against the general engine, which knows nothing of it).
    election, ballots = instance
    prof = build_profile(election, ballots)
    if not prof.n_voters:
        return
    ties = Ties(election.projects, _tie_votes(election, prof), TIES[0])
    cands = [i for i in range(len(prof.ids)) if prof.votes[i] > 0 and prof.costs[i] > 0]
    factor = [c if satisfaction == "cost" else 1 for c in prof.costs]
    fast = ApprovalMes(prof, cands, factor, ties)
    general = MesEngine(prof, cands, factor, ties)
    step = prof.n_voters
    e = election.budget + offset * step
    run = fast.search(e)
    j = skip_for(fast).steps(e, run, step)
    same = [p.project for p in run.purchases]
    for i in sorted({0, min(1, j), j // 3, j // 2, max(j - 1, 0), j}):
        assert general.run(e + i * step).winners == same
    if j:
        assert skip_for(general).steps(e, general.run(e), step) == j


def _demo_like(voters: int) -> tuple[Election, list[Ballot]]:
    """A district election of the demo's shape: 8 projects of 0.45 to 3.1 million in
    kopecks, 8 million to spend, few voters approving one to four projects."""
    costs = [180_000_000, 240_000_000, 150_000_000, 310_000_000]
    costs += [45_000_000, 120_000_000, 90_000_000, 60_000_000]
    projects = tuple(Project(f"p{i}", c) for i, c in enumerate(costs))
    rng = random.Random(2026)
    ids = [p.id for p in projects]
    ballots: list[Ballot] = [
        ApprovalBallot(tuple(sorted(set(rng.choices(ids, [9, 8, 6, 5, 7, 3, 6, 4], k=3)))))
        for _ in range(voters)
    ]
    return Election(projects, 800_000_000, unit=100), ballots


@pytest.mark.parametrize("voters", [5, 30])
def test_a_small_election_with_a_large_budget_takes_few_runs(voters: int) -> None:
    election, ballots = _demo_like(voters)
    config = _config("cost", "add1", False, TIES[0])
    made: list[int] = []
    real = add1

    def counting(*args: Any) -> Add1Result:
        got = real(*args)
        made.append(got.made)
        return got

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mes_add1, "add1", counting)
        outcome = compute(election, ballots, config)
    runs = outcome.trace[0].values["runs"]
    assert isinstance(runs, int)
    assert runs > 10_000  # the definition's count: one run per raise
    assert made[0] < 100
