"""The add1 completion of the Method of Equal Shares (docs/protocol.md §9.5): runs at
``b_k = b_0 + k·u`` per voter, ``k = 0, 1, 2, …``; go to ``k + 1`` unless the run at ``k``
bought every candidate (or, with the early stop, its result is exhaustive) or the run at
``k + 1`` spends more than the budget; the result is the run at the last ``k`` reached.

Whether the loop goes on depends only on the winners. Where a run's purchases provably
stay the same for the next ``j`` raises (``mes_add1_skip``), those raises are not run:
the loop reaches the same ``k`` and the same final run, and the number of runs it reports
is the definition's (one per budget tried), whatever it skipped.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

from tally.mes_add1_skip import Add1Skip
from tally.mes_run import Run
from tally.profile import Profile

if TYPE_CHECKING:
    from tally.mes_approval import ApprovalMes
    from tally.mes_engine import MesEngine

__all__ = ["Add1Result", "add1", "skip_for"]


class Add1Result:
    """The final run (with the details the trace shows), the number of runs the
    definition makes (``runs``) and the number actually made (``made``)."""

    __slots__ = ("final", "made", "runs")

    def __init__(self, final: Run, runs: int, made: int) -> None:
        self.final = final
        self.runs = runs
        self.made = made


def _spent(prof: Profile, winners: list[int]) -> int:
    return sum(prof.costs[i] for i in winners)


def _exhaustive(prof: Profile, pool: list[int], winners: list[int], budget: int) -> bool:
    left = budget - _spent(prof, winners)
    chosen = set(winners)
    return all(prof.costs[i] > left for i in pool if i not in chosen)


def skip_for(engine: MesEngine | ApprovalMes) -> Add1Skip:
    """The bound of ``mes_add1_skip`` over ``engine``'s own voter types."""
    from tally.mes_approval import ApprovalMes

    if isinstance(engine, ApprovalMes):
        approval = engine

        def supporters(c: int) -> list[tuple[Hashable, int, int]]:
            u = approval.utility[c]
            return [(mask, m, u) for mask, m, _ in approval.supporters[c]]

        def classes(c: int, bought: int) -> tuple[Sequence[tuple[int, ...]], Sequence[int], int]:
            got = approval._classes_of(c, bought)  # the run just made them
            return got.projects, got.voters, approval.utility[c]

        return Add1Skip(
            supporters,
            engine.candidates,
            engine.scaled_cost,
            engine.tie_rank,
            engine._rational,
            classes,
        )

    else:
        general = engine

        def supporters(c: int) -> list[tuple[Hashable, int, int]]:
            voters, utilities = general.type_voters, general.utilities[c]
            return [
                (t, voters[t], utilities[j])
                for t, j in zip(
                    general.supporters[c], general.supporter_utility_index[c], strict=True
                )
            ]

    return Add1Skip(
        supporters, engine.candidates, engine.scaled_cost, engine.tie_rank, engine._rational
    )


def add1(
    engine: MesEngine | ApprovalMes,
    prof: Profile,
    pool: list[int],
    free: list[int],
    budget: int,
    start: int,
    step: int,
    exhaustive_stop: bool,
    skip: Add1Skip | None,
) -> Add1Result:
    """The add1 completion from the scaled per-voter budget ``start`` by ``step``.

    With ``skip`` (never with the ``refuse`` tie-break, whose errors depend on which ties
    a run meets), a run whose purchases stayed the same as the run before is asked how
    many raises it certainly stays the same for; those are skipped. On a large election
    a voter class crosses a share every few hundredths of a raise and the answer is
    none: with one utility per project it is found on the classes the run made for its
    winners, in a fraction of a run, but with points ballots the whole bound costs one
    to three runs. So after an answer of none the loop waits for a stretch of unchanged
    runs four times as long before it asks again; after a skip it asks at once.
    """
    k = 0
    run = engine.search(start)
    made = 1
    streak = 1  # runs in a row with these purchases
    wait = 2  # the streak at which to ask
    overspent = False
    while True:
        winners = run.winners
        if len(winners) == len(engine.candidates):
            break  # everything is bought: raising cannot change anything
        if exhaustive_stop and _exhaustive(prof, pool, free + winners, budget):
            break
        if skip is not None and streak >= wait:
            j = skip.steps(start + k * step, run, step)
            k += j  # same winners: the loop would go on through each of them
            wait = 1 if j else wait * 4
        raised = engine.search(start + (k + 1) * step)
        made += 1
        if _spent(prof, free + raised.winners) > budget:
            overspent = True
            break
        streak = streak + 1 if raised.winners == winners else 1
        k += 1
        run = raised
    final = engine.run(start + k * step, details=True)
    return Add1Result(final, k + 1 + overspent, made)
