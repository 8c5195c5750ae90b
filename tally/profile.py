"""Ballots grouped into voter types: identical ballots counted once with a multiplicity.

Real elections have tens of thousands of voters but far fewer distinct ballots, and every
rule here treats identical ballots alike, so rules work on types. Project ids become
indices into the election's project list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import partial
from itertools import repeat
from operator import attrgetter

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


class Profile:
    """Identical ballots grouped into voter types (read-only once built).

    ``projects[t]`` are the projects (indices) type ``t`` names and ``mult[t]`` is how
    many voters cast it. ``types[t]`` is the same as pairs ``(project index, weight)``:
    weight 1 for an approval or a choice, the points for a cumulative ballot, and for an
    ordinal ballot the position counted from 1 (most preferred first); for approval and
    choice ballots it is made when first asked for. ``votes[i]`` counts the voters whose
    ballot names project ``i``, ``points[i]`` sums their weights.
    """

    __slots__ = ("_types", "costs", "ids", "mult", "n_voters", "points", "projects", "votes")

    def __init__(
        self,
        *,
        n_voters: int,
        ids: tuple[str, ...],
        costs: tuple[int, ...],
        projects: tuple[tuple[int, ...], ...],
        mult: tuple[int, ...],
        votes: tuple[int, ...],
        points: tuple[int, ...],
        types: tuple[tuple[tuple[int, int], ...], ...] | None = None,
    ) -> None:
        self.n_voters = n_voters
        self.ids = ids
        self.costs = costs
        self.projects = projects
        self.mult = mult
        self.votes = votes
        self.points = points
        self._types = types

    @property
    def types(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        if self._types is None:  # weight 1 each: one (project, 1) pair per project, shared
            pairs = [(i, 1) for i in range(len(self.ids))]
            self._types = tuple(map(tuple, map(partial(map, pairs.__getitem__), self.projects)))
        return self._types


def _entries(ballot: Ballot, index: dict[str, int], kind: str) -> tuple[tuple[int, int], ...]:
    def idx(pid: str) -> int:
        try:
            return index[pid]
        except KeyError:
            raise TallyError(f"ballot names unknown project {pid!r}", code="bad_ballot") from None

    if isinstance(ballot, ApprovalBallot | ChoiceBallot):
        ids = ballot.approve if isinstance(ballot, ApprovalBallot) else ballot.choose
        try:
            return tuple(zip(sorted(map(index.__getitem__, set(ids))), repeat(1)))
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
    if not all(map(isinstance, ballots, repeat(expected))):
        wrong = next(b for b in ballots if not isinstance(b, expected))
        raise TallyError(
            f"a {type(wrong).__name__} in an election of kind {election.kind}",
            code="bad_ballot",
        )
    votes = [0] * len(ids)
    points = [0] * len(ids)
    if election.kind in ("approval", "choice"):
        # The common case, kept fast: identical ballots are converted once (ballot structs
        # are hashable) and grouped by the sorted indices of the projects they name.
        get = index.__getitem__
        pick = attrgetter("approve" if election.kind == "approval" else "choose")
        distinct = Counter(ballots)
        try:
            keys = list(
                map(tuple, map(sorted, map(set, map(partial(map, get), map(pick, distinct)))))
            )
        except KeyError:
            for ballot in distinct:
                _entries(ballot, index, election.kind)  # raises the unknown-project error
            raise  # pragma: no cover - _entries raised above
        sets: dict[tuple[int, ...], int] = {}
        for key, k in zip(keys, distinct.values(), strict=True):
            sets[key] = sets.get(key, 0) + k
        projects = tuple(sets)
        types = None  # made from projects when asked for
        mult = tuple(sets.values())
        for key, m in sets.items():
            for i in key:
                votes[i] += m
        points = list(votes)
    else:
        if election.kind == "ordinal":
            for ballot, k in Counter(ballots).items():
                counts[_entries(ballot, index, election.kind)] += k
        else:
            # cumulative ballots are not hashable (their points are a dict)
            for ballot in ballots:
                counts[_entries(ballot, index, election.kind)] += 1
        types = tuple(counts)
        mult = tuple(counts[t] for t in types)
        projects = tuple([tuple([i for i, _ in t]) for t in types])
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
        projects=projects,
    )
