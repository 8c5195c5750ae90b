"""pabutools as a test oracle (GPL: imported only by the tests).

Builds pabutools' instance and profile from Veche's structs and runs its rules with the
same tie-break as Veche's ``cost-votes-lot`` (lower cost, more votes, then the lot).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from pabutools.election import (
    AdditiveSatisfaction,
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
    Instance,
    Project,
)
from pabutools.rules import (
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
)
from pabutools.tiebreaking import TieBreakingRule

import tally
from tally import Ballot, Election, lot_digest

__all__ = ["Oracle"]


class PointsCostSat(AdditiveSatisfaction):  # type: ignore[misc]
    """Cost satisfaction for cumulative ballots: points × cost (Veche's definition)."""

    def __init__(self, instance: Any, profile: Any, ballot: Any) -> None:
        super().__init__(
            instance, profile, ballot, lambda _i, _p, b, proj, _pre: b.get(proj, 0) * proj.cost
        )


class PointsSat(AdditiveSatisfaction):  # type: ignore[misc]
    """Cardinality satisfaction for cumulative ballots: the points."""

    def __init__(self, instance: Any, profile: Any, ballot: Any) -> None:
        super().__init__(instance, profile, ballot, lambda _i, _p, b, proj, _pre: b.get(proj, 0))


class Oracle:
    def __init__(self, election: Election, ballots: Sequence[Ballot], seed: bytes = b"") -> None:
        self.election = election
        self.inst = Instance(budget_limit=Fraction(election.budget))
        self.projects = {p.id: Project(p.id, Fraction(p.cost)) for p in election.projects}
        for p in self.projects.values():
            self.inst.add(p)
        if election.kind == "approval":
            prof: Any = ApprovalProfile(
                [
                    ApprovalBallot([self.projects[i] for i in b.approve])  # type: ignore[union-attr]
                    for b in ballots
                ]
            )
        else:
            prof = CumulativeProfile(
                [
                    CumulativeBallot(
                        {self.projects[i]: Fraction(n) for i, n in b.points.items() if n}  # type: ignore[union-attr]
                    )
                    for b in ballots
                ]
            )
        self.profile = prof
        vp = tally.build_profile(election, ballots)
        tie_votes = vp.points if election.kind == "cumulative" else vp.votes
        votes = dict(zip(vp.ids, tie_votes, strict=True))
        self.votes = dict(zip(vp.ids, vp.votes, strict=True))
        lot = {p.id: lot_digest(seed, p.id) for p in election.projects}
        self.tie = TieBreakingRule(lambda _i, _p, p: (p.cost, -votes[p.name], lot[p.name]))

    def greedy(self) -> list[str]:
        res = greedy_utilitarian_welfare(
            self.inst, self.profile, sat_class=Cost_Sat, tie_breaking=self.tie
        )
        return [p.name for p in res]

    def mes(self, satisfaction: str, add1: bool = False) -> list[str]:
        if self.election.kind == "approval":
            sat = Cost_Sat if satisfaction == "cost" else Cardinality_Sat
        else:
            sat = PointsCostSat if satisfaction == "cost" else PointsSat
        res = method_of_equal_shares(
            self.inst,
            self.profile.as_multiprofile() if self.election.kind == "approval" else self.profile,
            sat_class=sat,
            tie_breaking=self.tie,
            voter_budget_increment=1 if add1 else None,
        )
        return [p.name for p in res]

    def phragmen(self) -> list[str]:
        res = sequential_phragmen(self.inst, self.profile, tie_breaking=self.tie)
        return [p.name for p in res]
