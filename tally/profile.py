"""Ballots grouped into voter types: identical ballots counted once with a multiplicity.

Real elections have tens of thousands of voters but far fewer distinct ballots, and every
rule here treats identical ballots alike, so rules work on types. Project ids become
indices into the election's project list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tally.errors import TallyError
from tally.model import (
    ApprovalBallot,
    Ballot,
    ChoiceBallot,
    CumulativeBallot,
    Election,
    OrdinalBallot,
)

__all__ = ["Profile", "build_profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    """``types[t]`` is a tuple of ``(project index, weight)``: weight 1 for an approval or
    a choice, the points for a cumulative ballot, and for an ordinal ballot the position
    counted from 1 (most preferred first). ``mult[t]`` is how many voters cast it."""

    n_voters: int
    ids: tuple[str, ...]
    costs: tuple[int, ...]
    types: tuple[tuple[tuple[int, int], ...], ...]
    mult: tuple[int, ...]
    votes: tuple[int, ...]
    points: tuple[int, ...]


def _entries(ballot: Ballot, index: dict[str, int], kind: str) -> tuple[tuple[int, int], ...]:
    def idx(pid: str) -> int:
        try:
            return index[pid]
        except KeyError:
            raise TallyError(f"ballot names unknown project {pid!r}", code="bad_ballot") from None

    if isinstance(ballot, ApprovalBallot | ChoiceBallot):
        ids = ballot.approve if isinstance(ballot, ApprovalBallot) else ballot.choose
        try:
            return tuple(sorted([(index[p], 1) for p in set(ids)]))
        except KeyError:
            for p in ids:
                idx(p)
            raise  # pragma: no cover - idx raised above
    if isinstance(ballot, CumulativeBallot):
        for pid, pts in ballot.points.items():
            if pts < 0:
                raise TallyError(f"negative points for {pid!r}", code="bad_ballot")
        return tuple(sorted((idx(p), n) for p, n in ballot.points.items() if n > 0))
    if len(set(ballot.rank)) != len(ballot.rank):
        raise TallyError("an ordinal ballot ranks a project twice", code="bad_ballot")
    return tuple((idx(p), pos) for pos, p in enumerate(ballot.rank, start=1))


_KIND = {
    "approval": ApprovalBallot,
    "cumulative": CumulativeBallot,
    "ordinal": OrdinalBallot,
    "choice": ChoiceBallot,
}


def build_profile(election: Election, ballots: Sequence[Ballot]) -> Profile:
    """Group ``ballots`` by content; raise ``TallyError`` on an unknown project id, a
    duplicate project id in the election, or a ballot of the wrong kind."""
    ids = tuple(p.id for p in election.projects)
    index = {pid: i for i, pid in enumerate(ids)}
    if len(index) != len(ids):
        raise TallyError("two projects share an id", code="bad_election")
    for p in election.projects:
        if p.cost < 0:
            raise TallyError(f"project {p.id!r} has a negative cost", code="bad_election")
    if election.budget < 0:
        raise TallyError("the budget is negative", code="bad_election")
    expected = _KIND[election.kind]
    counts: Counter[tuple[tuple[int, int], ...]] = Counter()
    # Identical ballot values are converted once (ballot structs are hashable, except
    # cumulative ones, whose points are a dict).
    same: Counter[Ballot] | None = Counter() if election.kind != "cumulative" else None
    for ballot in ballots:
        if not isinstance(ballot, expected):
            raise TallyError(
                f"a {type(ballot).__name__} in an election of kind {election.kind}",
                code="bad_ballot",
            )
        if same is not None:
            same[ballot] += 1
        else:
            counts[_entries(ballot, index, election.kind)] += 1
    if same is not None:
        for ballot, k in same.items():
            counts[_entries(ballot, index, election.kind)] += k
    types = tuple(counts)
    mult = tuple(counts[t] for t in types)
    votes = [0] * len(ids)
    points = [0] * len(ids)
    for t, m in zip(types, mult, strict=True):
        for i, w in t:
            votes[i] += m
            points[i] += m * w
    return Profile(
        n_voters=len(ballots),
        ids=ids,
        costs=tuple(p.cost for p in election.projects),
        types=types,
        mult=mult,
        votes=tuple(votes),
        points=tuple(points),
    )
