"""Polls: plurality, approval and Borda counts; the ``seats`` best options win.

- plurality: each ballot counts once for its single choice (choice ballots with more
  than one option, and ordinal ballots, count for their first option);
- approval: each chosen or approved option gets one vote;
- Borda: an ordinal ballot gives ``m - 1`` points to its first option, ``m - 2`` to its
  second, …, where ``m`` is the number of options; unranked options get nothing.
"""

from __future__ import annotations

from tally.errors import TallyError
from tally.model import Election, Outcome, RuleConfig, Step
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["poll"]


def poll(election: Election, prof: Profile, config: RuleConfig, ties: Ties) -> Outcome:
    m = len(prof.ids)
    scores = [0] * m
    rule = config.rule
    for ballot, mult in zip(prof.types, prof.mult, strict=True):
        if not ballot:
            continue
        if rule == "plurality":
            if election.kind == "ordinal":
                first = min(ballot, key=lambda e: e[1])[0]
            elif election.kind == "cumulative":
                raise TallyError("plurality needs choice, approval or ordinal ballots")
            else:
                if len(ballot) != 1:
                    raise TallyError("a plurality ballot must choose exactly one option")
                first = ballot[0][0]
            scores[first] += mult
        elif rule == "approval":
            for i, _ in ballot:
                scores[i] += mult
        else:
            if election.kind != "ordinal":
                raise TallyError("Borda needs ordinal ballots")
            for i, pos in ballot:
                scores[i] += mult * (m - pos)
    order = sorted(range(m), key=lambda i: (-scores[i], ties.rank[i]))
    seats = max(config.seats, 0)
    if ties.refuses and 0 < seats < m and scores[order[seats - 1]] == scores[order[seats]]:
        ties.pick([i for i in order if scores[i] == scores[order[seats]]], "equal score in a poll")
    winners = order[:seats]
    trace = [
        Step(
            r,
            "select" if r <= seats else "note",
            f"{prof.ids[i]}: {scores[i]}",
            prof.ids[i],
            {"score": scores[i]},
        )
        for r, i in enumerate(order, start=1)
    ]
    return Outcome(
        rule=rule,
        winners=[prof.ids[i] for i in winners],
        spent=sum(prof.costs[i] for i in winners),
        budget=election.budget,
        scores={pid: scores[i] for i, pid in enumerate(prof.ids)},
        trace=trace,
        options={"seats": str(seats), "tie_break": config.tie_break.method},
    )
