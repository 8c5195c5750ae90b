"""Worked examples for each rule, the tie-breaks and the trace."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tally import (
    ApprovalBallot,
    Ballot,
    ChoiceBallot,
    CumulativeBallot,
    Election,
    OrdinalBallot,
    Project,
    RuleConfig,
    TallyError,
    TieBreak,
    TieRefused,
    compute,
    lot_digest,
    lot_seed,
)


def _e(costs: dict[str, int], budget: int, kind: str = "approval") -> Election:
    return Election(tuple(Project(k, c, k.upper()) for k, c in costs.items()), budget, kind)  # type: ignore[arg-type]


def _a(*sets: str) -> list[Ballot]:
    return [ApprovalBallot(tuple(s)) for s in sets]


def test_greedy_variants() -> None:
    election = _e({"a": 60, "b": 50, "c": 30, "d": 10}, 100)
    ballots = _a("abcd", "abc", "ab", "a", "bd")
    out = compute(election, ballots, RuleConfig(rule="greedy"))
    # a and b tie on 4 votes, b is cheaper; then a no longer fits; c and d tie, d is cheaper
    assert out.winners == ["b", "d", "c"]
    assert compute(election, ballots, RuleConfig(rule="greedy-no-skip")).winners == ["b"]
    thr = compute(election, ballots, RuleConfig(rule="greedy-threshold", threshold=3))
    assert thr.winners == ["b"]
    assert any(s.action == "ineligible" and s.project == "c" for s in thr.trace)
    assert out.spent == 90
    assert out.scores == {"a": 4, "b": 4, "c": 2, "d": 2}


def test_greedy_on_cumulative_and_ordinal_scores() -> None:
    election = _e({"a": 5, "b": 5}, 5, "cumulative")
    ballots: list[Ballot] = [CumulativeBallot({"a": 1, "b": 2}), CumulativeBallot({"a": 2})]
    out = compute(election, ballots, RuleConfig(rule="greedy"))
    assert out.scores == {"a": 3, "b": 2}
    assert out.winners == ["a"]
    ordinal = Election(election.projects, 5, "ordinal", max_length=2)
    ranks: list[Ballot] = [OrdinalBallot(("b", "a")), OrdinalBallot(("b",)), OrdinalBallot(("a",))]
    assert compute(ordinal, ranks, RuleConfig(rule="greedy")).scores == {"a": 3, "b": 4}


def test_tie_break_cost_then_votes_then_lot() -> None:
    election = _e({"a": 10, "b": 10, "c": 5}, 10)
    ballots = _a("abc", "ab")
    # a and b tie on votes (2) and cost; c has fewer votes
    seed = b"seed"
    out = compute(election, ballots, RuleConfig(rule="greedy", tie_break=TieBreak(seed=seed)))
    first = min("ab", key=lambda p: lot_digest(seed, p))
    assert out.winners == [first]
    flipped = [
        s
        for s in (bytes([k]) for k in range(50))
        if min("ab", key=lambda p: lot_digest(s, p)) != first
    ]
    assert flipped  # some seed draws the other project
    out2 = compute(
        election, ballots, RuleConfig(rule="greedy", tie_break=TieBreak(seed=flipped[0]))
    )
    assert out2.winners == ["b" if first == "a" else "a"]


def test_lot_formula() -> None:
    assert lot_seed(b"secret", b"digest") == hashlib.sha256(b"veche/lot/v1secretdigest").digest()
    assert lot_digest(b"s", "p1") == hashlib.sha256(b"sp1").digest()


def test_tie_break_fixed_order_and_refusal() -> None:
    election = _e({"a": 10, "b": 10}, 10)
    ballots = _a("ab")
    order = TieBreak(method="order", order=("b", "a"))
    assert compute(election, ballots, RuleConfig(rule="greedy", tie_break=order)).winners == ["b"]
    default_order = TieBreak(method="order")
    assert compute(election, ballots, RuleConfig(rule="mes", tie_break=default_order)).winners == [
        "a"
    ]
    for rule in ("greedy", "mes", "phragmen", "approval"):
        with pytest.raises(TieRefused) as info:
            compute(election, ballots, RuleConfig(rule=rule, tie_break=TieBreak(method="refuse")))  # type: ignore[arg-type]
        assert info.value.projects == ["a", "b"]
    # a tie that does not matter is not refused
    roomy = _e({"a": 5, "b": 5}, 10)
    refuse = TieBreak(method="refuse")
    assert set(compute(roomy, ballots, RuleConfig(rule="greedy", tie_break=refuse)).winners) == {
        "a",
        "b",
    }


def test_mes_worked_example_and_trace() -> None:
    # 4 voters, budget 40 (10 each). a: 3 voters, cost 30 -> 10 each; b: 1 voter cost 10
    election = _e({"a": 30, "b": 10, "c": 20}, 40)
    ballots = _a("a", "a", "ac", "b")
    out = compute(election, ballots, RuleConfig(rule="mes"))
    assert out.winners == ["a", "b"]
    bought = [s for s in out.trace if s.action == "select"]
    assert bought[0].values["price_per_voter"] == "10"
    assert bought[0].values["effective_votes"] == "3"
    dropped = [s for s in out.trace if s.action == "unaffordable"]
    assert dropped[0].project == "c"
    assert dropped[0].values["money_behind"] == "0"


def test_mes_cardinality_and_points() -> None:
    election = _e({"a": 30, "b": 12}, 40, "cumulative")
    ballots: list[Ballot] = [
        CumulativeBallot({"a": 3}),
        CumulativeBallot({"a": 1, "b": 2}),
        CumulativeBallot({"b": 3}),
    ]
    out = compute(election, ballots, RuleConfig(rule="mes", satisfaction="cardinality"))
    assert out.spent <= 40
    assert out.scores == {"a": 4, "b": 5}


def test_mes_eligibility_rules() -> None:
    election = _e({"a": 50, "b": 10, "c": 40}, 100)
    ballots = _a("a", "ab", "b", "bc", "b", "b")
    share = compute(election, ballots, RuleConfig(rule="mes", min_vote_share="1/2"))
    assert "a" not in share.winners and "c" not in share.winners
    # Świecie: share of voters >= 1/3 of share of budget: a 2/6 >= 50/300 ok; c 1/6 >= 40/300
    ratio = compute(election, ballots, RuleConfig(rule="mes", eligibility_ratio="1/3"))
    assert not [s for s in ratio.trace if s.action == "ineligible"]
    strict = compute(election, ballots, RuleConfig(rule="mes", eligibility_ratio="2"))
    assert {s.project for s in strict.trace if s.action == "ineligible"} == {"a", "c"}


def test_mes_comparison_can_choose_the_greedy_result() -> None:
    # Four voters want B (cost 90) only; with 15 each they cannot pay for it under MES,
    # and x, y have one supporter each: MES funds nothing. Greedy funds B, which four
    # voters prefer and nobody dislikes, so the comparison picks the greedy result.
    election = _e({"B": 90, "x": 45, "y": 45}, 90)
    ballots = _a("B", "B", "B", "B", "x", "y")
    assert compute(election, ballots, RuleConfig(rule="mes")).winners == []
    for how in ("satisfaction", "exclusion"):
        out = compute(election, ballots, RuleConfig(rule="mes", comparison=how))  # type: ignore[arg-type]
        assert out.winners == ["B"]
        compare = next(s for s in out.trace if s.action == "compare")
        assert compare.values == {"prefer_mes": 0, "prefer_greedy": 4}


def test_polls() -> None:
    election = _e({"x": 0, "y": 0, "z": 0}, 0, "choice")
    ballots: list[Ballot] = [ChoiceBallot(("x",)), ChoiceBallot(("y",)), ChoiceBallot(("y",))]
    assert compute(election, ballots, RuleConfig(rule="plurality")).winners == ["y"]
    assert compute(election, ballots, RuleConfig(rule="approval", seats=2)).winners == ["y", "x"]
    ordinal = _e({"x": 0, "y": 0, "z": 0}, 0, "ordinal")
    ranks: list[Ballot] = [OrdinalBallot(("x", "y", "z")), OrdinalBallot(("y", "x"))]
    borda = compute(ordinal, ranks, RuleConfig(rule="borda"))
    assert borda.scores == {"x": 3, "y": 3, "z": 0}
    with pytest.raises(TallyError):
        compute(election, [ChoiceBallot(("x", "y"))], RuleConfig(rule="plurality"))
    with pytest.raises(TallyError):
        compute(election, ballots, RuleConfig(rule="borda"))


def test_bad_inputs_are_typed_errors() -> None:
    election = _e({"a": 1}, 1)
    with pytest.raises(TallyError, match="unknown project"):
        compute(election, _a("z"), RuleConfig())
    with pytest.raises(TallyError, match="kind"):
        compute(election, [OrdinalBallot(("a",))], RuleConfig())
    with pytest.raises(TallyError, match="needs"):
        compute(_e({"a": 1}, 1, "ordinal"), [OrdinalBallot(("a",))], RuleConfig(rule="mes"))
    with pytest.raises(TallyError, match="share an id"):
        compute(Election((Project("a", 1), Project("a", 2)), 5), [], RuleConfig())


def test_no_voters_and_everything_free() -> None:
    election = _e({"a": 0, "b": 5}, 10)
    for rule in ("greedy", "mes", "phragmen"):
        assert compute(election, [], RuleConfig(rule=rule)).winners == []  # type: ignore[arg-type]
    out = compute(election, _a("a", ""), RuleConfig(rule="mes", completion="add1"))
    assert out.winners == ["a"]


@pytest.mark.slow
def test_standard_library_fractions_give_identical_results() -> None:
    # Without gmpy2 the add1 completion (Swiecie's rule) falls back to fractions.Fraction;
    # a process where gmpy2 cannot be imported computes the same outcome, trace included.
    root = Path(__file__).resolve().parents[3]
    code = (
        "import sys\n"
        "if sys.argv[2] == 'without': sys.modules['gmpy2'] = None  # as if not installed\n"
        "import msgspec, tally, tally._num\n"
        "pf = tally.read_pb(sys.argv[1])\n"
        "o = tally.compute(pf.election, pf.ballots, tally.declared_config(pf))\n"
        "print(tally._num.fast_rationals().__name__, msgspec.json.encode(o).decode())\n"
    )
    path = str(root / "tests" / "data" / "pabulib" / "Poland_Swiecie_2023.pb")
    outs = {}
    for gmpy2 in ("with", "without"):
        done = subprocess.run(
            [sys.executable, "-c", code, path, gmpy2],
            capture_output=True,
            text=True,
            cwd=root,
            check=True,
        )
        kind, _, outcome = done.stdout.partition(" ")
        outs[kind] = json.loads(outcome)
    assert set(outs) == {"mpq", "Fraction"}
    assert outs["mpq"] == outs["Fraction"]
