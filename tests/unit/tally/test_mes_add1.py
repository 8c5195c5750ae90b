"""The fast engine for one utility per project (``ApprovalMes``) against the general one
(``MesEngine``), and the add1 completion against a plain one-unit-at-a-time loop.

Exactness is the point: every price, every purchase, every trace detail and the budget
at which add1 stops must be the same, on generated elections built to hit exact ties,
near-ties and projects that become unaffordable, and on real ones.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally import ApprovalBallot, Ballot, Election, Project, RuleConfig, TieBreak, compute, mes
from tally._num import fast_rationals
from tally.compute import _tie_votes
from tally.errors import TieRefused
from tally.mes_approval import ApprovalMes, one_utility
from tally.mes_engine import MesEngine
from tally.mes_run import Run
from tally.model import frac_str
from tally.profile import Profile, build_profile
from tally.tiebreak import Ties
from tests.strategies.tally import approval_elections, cumulative_elections
from tests.support.tally_data import load

SMALL = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MEDIUM = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The engines take the exact rational type: both must give the same runs.
_RATIONALS = [Fraction, fast_rationals()]  # gmpy2's mpq where gmpy2 is installed


@st.composite
def medium_elections(draw: st.DrawFn) -> tuple[Election, list[Ballot]]:
    """Up to 14 projects and 300 voters with popular and unpopular projects, costs from a
    short list (ties) and budgets from tight to generous; sometimes one project a voter."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    k = rng.randint(2, 14)
    menu = [1, 2, 5, 10, 12, 30, 50, 77, 100]
    costs = [rng.choice(menu) * rng.choice([1, 1, 10, 100]) for _ in range(k)]
    projects = tuple(Project(f"p{i}", c) for i, c in enumerate(costs))
    budget = max(1, sum(costs) * rng.randint(1, 9) // 10)
    weights = [rng.random() ** 2 + 0.01 for _ in range(k)]
    n = rng.randint(1, 300)
    ids = [p.id for p in projects]
    single = rng.random() < 0.15  # every voter supports one project: no overlaps at all
    ballots: list[Ballot] = []
    for _ in range(n):
        size = 1 if single else rng.randint(0, min(k, rng.choice([1, 2, 3, 5, 8])))
        pick = set(rng.choices(ids, weights, k=size))
        ballots.append(ApprovalBallot(tuple(sorted(pick))))
    return Election(projects, budget), ballots


def _engines(
    election: Election,
    ballots: list[Ballot],
    satisfaction: str,
    tie: TieBreak,
    rationals: Any = Fraction,
    many_runs: bool = False,
) -> tuple[Profile, MesEngine, ApprovalMes]:
    prof = build_profile(election, ballots)
    ties = Ties(election.projects, _tie_votes(election, prof), tie)
    cands = [i for i in range(len(prof.ids)) if prof.votes[i] > 0 and prof.costs[i] > 0]
    factor = [c if satisfaction == "cost" else 1 for c in prof.costs]
    general = MesEngine(prof, cands, factor, ties, rationals)
    return prof, general, ApprovalMes(prof, cands, factor, ties, rationals, many_runs)


def _same(a: Run, b: Run, details: bool) -> None:
    assert [(p.project, p.price) for p in a.purchases] == [
        (p.project, p.price) for p in b.purchases
    ]
    if details:
        assert [(p.payers, p.paid_all) for p in a.purchases] == [
            (p.payers, p.paid_all) for p in b.purchases
        ]
        assert a.unaffordable == b.unaffordable


def _budgets(prof: Profile, election: Election, steps: int) -> list[int]:
    n = max(prof.n_voters, 1)
    return [election.budget + k * n for k in range(steps)]


@SMALL
@given(approval_elections(), st.sampled_from(["cost", "cardinality"]))
def test_fast_engine_matches_the_general_one_small(
    instance: tuple[Election, list[Ballot]], satisfaction: str
) -> None:
    election, ballots = instance
    prof, general, fast = _engines(election, ballots, satisfaction, TieBreak(seed=b"t"))
    for e in _budgets(prof, election, 12):
        want = general.run(e, details=True)
        _same(want, fast.run(e, details=True), details=True)
        _same(want, fast.search(e), details=False)


@MEDIUM
@given(
    medium_elections(),
    st.sampled_from(["cost", "cardinality"]),
    st.booleans(),
    st.sampled_from(_RATIONALS),
    st.booleans(),
)
def test_fast_engine_matches_the_general_one_medium(
    instance: tuple[Election, list[Ballot]],
    satisfaction: str,
    downwards: bool,
    rationals: Any,
    many_runs: bool,
) -> None:
    # Budgets in both directions, and runs repeated: the bounds one run lends another
    # hold whichever way the budget moves. Fine classes telling every candidate apart
    # from the start (many_runs) or only what was bought: the same runs.
    election, ballots = instance
    tie = TieBreak(seed=b"m")
    prof, general, fast = _engines(election, ballots, satisfaction, tie, rationals, many_runs)
    budgets = _budgets(prof, election, 25)
    if downwards:
        budgets.reverse()
    for e in budgets + budgets[::3]:
        want = general.run(e)
        _same(want, fast.search(e), details=False)
    for e in budgets[::5]:
        _same(general.run(e, details=True), fast.run(e, details=True), details=True)


def _naive_add1(
    election: Election, ballots: list[Ballot], satisfaction: str, stop: bool, tie: TieBreak
) -> tuple[list[int], int, int]:
    """add1 by the book: the general engine, one run per one-unit raise of the per-voter
    budget; (winners, final scaled budget, runs)."""
    prof, general, _ = _engines(election, ballots, satisfaction, tie)
    n = prof.n_voters
    budget = election.budget

    def spent(run: Run) -> int:
        return sum(prof.costs[i] for i in run.winners)

    def exhaustive(run: Run) -> bool:
        left = budget - spent(run)
        chosen = set(run.winners)
        return all(prof.costs[i] > left for i in general.candidates if i not in chosen)

    e = budget
    cur = general.run(e)
    runs = 1
    while not (stop and exhaustive(cur)) and len(cur.purchases) < len(general.candidates):
        nxt = general.run(e + n)
        runs += 1
        if spent(nxt) > budget:
            break
        e, cur = e + n, nxt
    return cur.winners, e, runs


@MEDIUM
@given(medium_elections(), st.sampled_from(["cost", "cardinality"]), st.booleans())
def test_add1_matches_a_one_unit_at_a_time_loop(
    instance: tuple[Election, list[Ballot]], satisfaction: str, stop: bool
) -> None:
    election, ballots = instance
    if not ballots or any(p.cost == 0 for p in election.projects):
        return  # free projects are added around MES; the loop above leaves them out
    tie = TieBreak(seed=b"a")
    winners, e, runs = _naive_add1(election, ballots, satisfaction, stop, tie)
    config = RuleConfig(
        rule="mes",
        satisfaction=satisfaction,  # type: ignore[arg-type]
        completion="add1",
        add1_exhaustive_stop=stop,
        tie_break=tie,
    )
    outcome = compute(election, ballots, config)
    ids = [p.id for p in election.projects]
    assert outcome.winners == [ids[i] for i in winners]
    head = outcome.trace[0].values
    assert head["runs"] == runs
    assert head["per_voter_used"] == frac_str(Fraction(e, len(ballots)))


@SMALL
@given(approval_elections(max_voters=20), st.booleans())
def test_refuse_tie_break_behaves_as_before(
    instance: tuple[Election, list[Ballot]], stop: bool
) -> None:
    # With "refuse" the first tie met raises, so the fast engine scans as the general one.
    election, ballots = instance
    tie = TieBreak(method="refuse")
    prof, general, fast = _engines(election, ballots, "cost", tie)
    for e in _budgets(prof, election, 6):
        try:
            want = general.run(e, details=True)
        except TieRefused as err:
            with pytest.raises(TieRefused) as again:
                fast.run(e, details=True)
            assert again.value.args == err.args
            with pytest.raises(TieRefused):
                fast.search(e)
            continue
        _same(want, fast.run(e, details=True), details=True)
        _same(want, fast.search(e), details=False)


@SMALL
@given(cumulative_elections())
def test_cumulative_ballots_use_the_general_engine_when_utilities_differ(
    instance: tuple[Election, list[Ballot]],
) -> None:
    election, ballots = instance
    prof = build_profile(election, ballots)
    cands = [i for i in range(len(prof.ids)) if prof.votes[i] > 0 and prof.costs[i] > 0]
    uniform = all(len({w for t in prof.types for i, w in t if i == c}) <= 1 for c in cands)
    assert one_utility(prof, cands) == uniform
    if uniform:
        tie = TieBreak(seed=b"c")
        ties = Ties(election.projects, _tie_votes(election, prof), tie)
        general = MesEngine(prof, cands, list(prof.costs), ties)
        fast = ApprovalMes(prof, cands, list(prof.costs), ties)
        e = election.budget
        _same(general.run(e, details=True), fast.run(e, details=True), details=True)


@pytest.mark.parametrize("many_runs", [False, True], ids=["told-apart-as-bought", "all-told-apart"])
@pytest.mark.parametrize("rationals", _RATIONALS, ids=lambda r: r.__name__)
@pytest.mark.parametrize(
    "name", ["Poland_Wieliczka_2023_Green_Budget.pb", "Netherlands_Assen_2024.pb"]
)
def test_real_elections_give_the_same_runs(name: str, rationals: Any, many_runs: bool) -> None:
    pf = load(name)
    election, ballots = pf.election, pf.ballots
    prof, general, fast = _engines(
        election, ballots, "cost", TieBreak(seed=b"r"), rationals, many_runs
    )
    for e in _budgets(prof, election, 40):
        _same(general.run(e), fast.search(e), details=False)
    e = election.budget + 7 * prof.n_voters
    _same(general.run(e, details=True), fast.run(e, details=True), details=True)


@pytest.mark.parametrize("stop", [True, False])
def test_the_outcome_is_the_same_with_either_engine(
    stop: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole outcome of add1 on a real election, trace included, is the same when
    # the general engine is forced.
    pf = load("Poland_Wieliczka_2023_Green_Budget.pb")
    config = RuleConfig(
        rule="mes", completion="add1", add1_exhaustive_stop=stop, tie_break=TieBreak(seed=b"w")
    )
    fast = compute(pf.election, pf.ballots, config)
    monkeypatch.setattr(mes, "one_utility", lambda *_: False)
    general = compute(pf.election, pf.ballots, config)
    assert msgspec.json.encode(fast) == msgspec.json.encode(general)


@pytest.mark.parametrize("stop", [True, False])
def test_add1_on_a_real_election_matches_the_one_unit_loop(stop: bool) -> None:
    pf = load("Poland_Wieliczka_2023_Green_Budget.pb")
    election, ballots = pf.election, pf.ballots
    tie = TieBreak(seed=b"h")
    winners, e, runs = _naive_add1(election, ballots, "cost", stop, tie)
    config = RuleConfig(rule="mes", completion="add1", add1_exhaustive_stop=stop, tie_break=tie)
    outcome = compute(election, ballots, config)
    ids = [p.id for p in election.projects]
    free = [p.id for p in election.projects if p.cost == 0 and p.id in outcome.winners]
    assert outcome.winners == free + [ids[i] for i in winners]
    assert outcome.trace[0].values["runs"] == runs > 10
    assert outcome.trace[0].values["per_voter_used"] == frac_str(Fraction(e, len(ballots)))


def test_a_failing_intermediate_run_fails_the_tally(monkeypatch: pytest.MonkeyPatch) -> None:
    # add1's intermediate runs are not a best effort: an error in any of them (here a
    # refused tie at the sixth budget) is the tally's error.
    pf = load("Poland_Wieliczka_2023_Green_Budget.pb")
    config = RuleConfig(rule="mes", completion="add1", tie_break=TieBreak(seed=b"f"))
    bad = pf.election.budget + 5 * len(pf.ballots)
    real = ApprovalMes.search
    tried: list[int] = []

    def search(self: ApprovalMes, scaled_budget: int) -> Run:
        tried.append(scaled_budget)
        if scaled_budget == bad:
            raise TieRefused(["x"], "a test")
        return real(self, scaled_budget)

    monkeypatch.setattr(ApprovalMes, "search", search)
    with pytest.raises(TieRefused):
        compute(pf.election, pf.ballots, config)
    assert tried[-1] == bad


def test_ballots_of_one_project_each() -> None:
    # No voter supports two projects: the bounds between runs have no share changes to
    # add up (this once raised an IndexError).
    costs = {"a": 30, "b": 20, "c": 50, "d": 45, "e": 70}
    election = Election(tuple(Project(p, c) for p, c in costs.items()), 100)
    counts = {"a": 9, "b": 4, "c": 7, "d": 3, "e": 2}
    ballots: list[Ballot] = [ApprovalBallot((p,)) for p, k in counts.items() for _ in range(k)]
    for stop in (True, False):
        tie = TieBreak(seed=b"o")
        winners, _, runs = _naive_add1(election, ballots, "cost", stop, tie)
        config = RuleConfig(rule="mes", completion="add1", add1_exhaustive_stop=stop, tie_break=tie)
        outcome = compute(election, ballots, config)
        assert outcome.winners == [election.projects[i].id for i in winners]
        assert outcome.trace[0].values["runs"] == runs > 3


def test_a_band_decided_exactly_can_leave_a_project_unaffordable() -> None:
    # Every class near the share turns out, exactly, to pay all it has and nobody else
    # has money left: the project is unaffordable (this once divided by zero).
    costs = {"p0": 1, "p1": 10, "p2": 1, "p3": 13, "p4": 42}
    election = Election(tuple(Project(p, c) for p, c in costs.items()), 83)
    votes = [(), ("p0", "p1", "p4"), ("p1", "p3", "p4")] + [tuple(costs)] * 3
    ballots: list[Ballot] = [ApprovalBallot(v) for v in votes]
    tie = TieBreak(seed=b"cross-check")
    _, general, fast = _engines(election, ballots, "cost", tie)
    _same(general.run(election.budget, details=True), fast.run(election.budget, details=True), True)
    outcome = compute(election, ballots, RuleConfig(rule="mes", tie_break=tie))
    assert outcome.winners == ["p1", "p4", "p0", "p2"]
