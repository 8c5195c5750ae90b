"""Sequential Phragmén for participatory budgeting (approval ballots).

Voters earn virtual money continuously; a project is bought as soon as its supporters
together can pay its cost, and its supporters' loads are then equalised. The rule stops
at the first project it would buy that no longer fits in the budget. Loads are exact
fractions; a project nobody approved is never bought.
"""

from __future__ import annotations

from typing import Any

from tally._num import fast_rationals, to_fraction
from tally.model import Election, Outcome, RuleConfig, Step, frac_str
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["phragmen"]


def phragmen(election: Election, prof: Profile, config: RuleConfig, ties: Ties) -> Outcome:
    budget = election.budget
    Q = fast_rationals()  # loads are many thousands of operations on exact rationals
    supp: dict[int, list[int]] = {}
    for t, ballot in enumerate(prof.types):
        for i, _ in ballot:
            supp.setdefault(i, []).append(t)
    load: list[Any] = [Q(0)] * len(prof.types)
    # total load of each project's supporters, kept up to date as loads change
    total: dict[int, Any] = {i: Q(0) for i in supp}
    cands = {i for i in supp if prof.costs[i] <= budget}
    spent = 0
    winners: list[int] = []
    trace = [
        Step(
            0,
            "note",
            "sequential Phragmén: the project whose supporters can pay for it earliest is "
            f"bought next; stop at the first that no longer fits. Ties: {ties.describe()}",
        )
    ]
    while cands:
        best: list[int] = []
        best_load: Any = None
        for c in cands:
            new = (total[c] + prof.costs[c]) / prof.votes[c]
            if best_load is None or new < best_load:
                best, best_load = [c], new
            elif new == best_load:
                best.append(c)
        assert best_load is not None
        pick = ties.pick(best, "equal load in Phragmén")
        load_text = frac_str(to_fraction(best_load))
        pid, cost = prof.ids[pick], prof.costs[pick]
        if spent + cost > budget:
            trace.append(
                Step(
                    len(winners) + 1,
                    "stop",
                    f"{pid} would be next (load {load_text}) but costs {cost} and "
                    f"only {budget - spent} is left: stop",
                    pid,
                    {
                        "cost": cost,
                        "left": budget - spent,
                        "load": frac_str(to_fraction(best_load)),
                    },
                )
            )
            break
        for t in supp[pick]:
            delta = (best_load - load[t]) * prof.mult[t]
            for i, _ in prof.types[t]:
                total[i] += delta
            load[t] = best_load
        spent += cost
        winners.append(pick)
        cands.discard(pick)
        trace.append(
            Step(
                len(winners),
                "select",
                f"{pid} ({prof.votes[pick]} votes, cost {cost}) is bought; each supporter's "
                f"load is now {load_text}",
                pid,
                {"cost": cost, "votes": prof.votes[pick], "load": load_text},
            )
        )
    return Outcome(
        rule="phragmen",
        winners=[prof.ids[i] for i in winners],
        spent=spent,
        budget=budget,
        scores={pid: prof.votes[i] for i, pid in enumerate(prof.ids)},
        trace=trace,
        options={"tie_break": config.tie_break.method},
    )
