"""The supporters of each project in the form ``mes_approval``'s runs price them: voter
types as bit masks, each project's supporters by which projects they supported of
those bought in any run so far (or of every candidate, for many runs: "fine" classes),
and the classes after a set of purchases, folded from those
(``SupporterClasses``, kept for every set a run reached).

A voter who supported the set ``K`` of bought projects has ``max(0, e − Σ_{i∈K} p_i)``
left (``e`` the per-voter budget, ``p_i`` the share paid for ``i``), so the supporters of
a project who supported the same bought projects form a class with one budget in any run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from functools import partial, reduce
from itertools import compress, count, repeat
from operator import is_, itemgetter, or_
from typing import Any

from tally.mes_approval_bounds import ApprovalBounds
from tally.mes_approval_state import SupporterClasses, mask_projects
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["ApprovalClasses"]

# How many sets back ``_classes_of`` looks for kept classes to split from.
_SPLIT_REACH = 4


class ApprovalClasses(ApprovalBounds):
    """A profile prepared for pricing projects with one utility each, in many runs.

    ``supporters[c]`` lists the voter types supporting ``c`` as ``(bit mask of the
    candidates they supported, voters, those candidates)``; ``votes[c]`` counts them and
    ``utility[c]`` is what ``c`` is worth to each (``utilities`` and
    ``utilities_per_project`` give the same as ``MesEngine`` has them).
    ``scaled_cost[c]`` is the cost times ``n_voters``; ``initial_bound[c]`` the price if
    every supporter paid the share. ``_neighbours[c]`` (for the projects bought so
    far): the candidates that share a supporter with ``c``, whose price buying ``c`` can
    change.

    Across runs it keeps: ``_told_apart``, the projects that fine classes tell apart (a
    mask): every project any run bought so far or, when many runs are to come, every
    candidate from the start; ``_fine_classes[c]``, ``c``'s supporters grouped by which of
    those projects they supported (the classes after any set of purchases are folds of
    these), with the mask they are up to date with; ``_class_cache``, the
    ``SupporterClasses`` of each (set, project); ``_last_share[c]``, the last fixed-point
    share found for ``c``; ``_mask_ids``, a small number (id) for each class mask met,
    ``_id_projects[id]`` its projects, ``_id_pairs[j][id]`` its projects ``2j`` and
    ``2j + 1`` as an index into ``RunState.pair_sums``; and ``_pricings``, the last pricing
    of each (set, project), which bounds its price in other runs.
    """

    def __init__(
        self,
        prof: Profile,
        candidates: Sequence[int],
        factor: Sequence[int],
        ties: Ties,
        rationals: Any = Fraction,
        many_runs: bool = False,
    ) -> None:
        """Same arguments as ``MesEngine``; ``one_utility`` must hold. ``rationals`` is
        the exact rational type prices are given in. With ``many_runs`` (add1's), the
        fine classes tell every candidate apart from the start: finer than one run
        needs, but never made stale by a project a later run buys for the first time,
        which would mean grouping the voter types again."""
        self._rational = rationals
        self.n_voters = prof.n_voters
        self.ties = ties
        self.tie_rank = ties.rank
        self.n_projects = len(prof.ids)
        eligible = set(candidates)
        everyone = all(i in eligible for i, v in enumerate(prof.votes) if v)
        # Voter types as (bit mask of the candidates supported, voters, the candidates).
        if everyone:  # the profile's types, distinct already
            types: dict[tuple[int, ...], int] = dict(zip(prof.projects, prof.mult, strict=True))
            types.pop((), None)
        else:
            types = Counter()
            for ids, m in zip(prof.projects, prof.mult, strict=True):
                ids = tuple([i for i in ids if i in eligible])
                if ids:
                    types[ids] += m
        bit = [1 << i for i in range(len(prof.ids))]
        type_masks = map(sum, map(partial(map, bit.__getitem__), types))
        supporters: dict[int, list[tuple[int, int, tuple[int, ...]]]] = {c: [] for c in candidates}
        add: list[Any] = [None] * len(prof.ids)
        for c in candidates:
            add[c] = supporters[c].append
        for entry in zip(type_masks, types.values(), types, strict=True):
            for c in entry[2]:
                add[c](entry)
        self.candidates = [c for c in candidates if supporters[c]]
        self.supporters = supporters
        # the most other candidates one voter supported beside any one: the most bought
        # projects a class can have paid for
        widest = max(map(len, types), default=1) - 1
        # A class's fixed-point budget is off by at most half a unit per share it paid.
        self._slack = widest // 2 + 2
        self._deviations_kept = min(max(widest, 1), 8)
        self.votes = {c: prof.votes[c] for c in self.candidates}  # every vote for c counts
        # every supporter gives the same weight: the points over the votes
        self.utility = {c: prof.points[c] // prof.votes[c] * factor[c] for c in self.candidates}
        self.utilities = {c: [self.utility[c]] for c in self.candidates}  # as MesEngine has them
        self.utilities_per_project = 1
        self.scaled_cost = [c * self.n_voters for c in prof.costs]
        self.initial_bound = {
            c: rationals(self.scaled_cost[c], self.votes[c] * self.utility[c])
            for c in self.candidates
        }
        # the candidates that share a supporter with c, for those bought (_neighbours_of)
        self._neighbours: dict[int, tuple[int, ...]] = {}
        # the projects fine classes tell apart: those bought so far, or every candidate
        self._every_candidate = sum(1 << c for c in self.candidates)
        self._told_apart = self._every_candidate if many_runs else 0
        # fine[c]: c's supporters by which of those projects they supported (the
        # classes after any set of purchases are folds of these), with the mask of
        # those projects they are up to date with. Told apart as they are bought: in the
        # first run, where a project enters at every round, they are rebuilt from the
        # voter types when needed; afterwards each new project splits the up-to-date
        # ones (_enter), stale ones are rebuilt.
        self._fine_classes: dict[int, tuple[int, dict[int, int]]] = {}
        self._first_run = True
        self._class_cache: dict[tuple[int, int], SupporterClasses] = {}
        # for each c, with the mask its fine classes are up to date with: the
        # fine classes of c's supporters who supported w, for each w asked (_classes_of)
        self._fine_by_project: dict[int, tuple[int, dict[int, list[tuple[int, int]]]]] = {}
        self._last_share: dict[int, int] = {}  # each project's last fixed-point share
        # every class mask met so far gets a small number, its id (0: no project)
        self._mask_ids: dict[int, int] = {0: 0}
        self._id_projects: list[tuple[int, ...]] = [()]  # each id's projects
        # each id's projects two by two, as indices into RunState.pair_sums (_new_id)
        self._id_pairs: list[list[int]] = []
        # lower bounds lent between runs: project -> set -> the last pricing there
        self._pricings: dict[int, dict[int, tuple[Any, ...]]] = {c: {} for c in self.candidates}

    # -- classes ---------------------------------------------------------------------

    def _neighbours_of(self, w: int) -> tuple[int, ...]:
        """The candidates that share a supporter with ``w``: the ones whose price buying
        ``w`` can change."""
        got = self._neighbours.get(w)
        if got is None:
            shared = reduce(or_, map(itemgetter(0), self.supporters[w]), 0)
            got = self._neighbours[w] = tuple(mask_projects(shared & ~(1 << w)))
        return got

    def _classes_of(
        self, c: int, s: int, masks: Sequence[int] = (), bought: Sequence[int] = ()
    ) -> SupporterClasses:
        """The classes of ``c``'s supporters after the set ``s`` (cached). ``masks`` and
        ``bought``, when given, are the run's sets and purchases so far (``s`` is
        ``masks[len(bought)]``): the classes after a recent one of those sets, if kept,
        are split by the purchases made since, which looks only at the supporters of
        those purchases instead of every fine class of ``c``."""
        got = self._class_cache.get((s, c))
        if got is not None:
            return got
        fine = self._fine_classes.get(c)
        if fine is None or s & ~fine[0]:
            ever = self._told_apart
            supporters = self.supporters[c]
            groups: dict[int, int]
            if ever == self._every_candidate:
                # every voter type is a class of its own: the types are distinct, and
                # their masks name candidates only
                groups = dict(map(itemgetter(0, 1), supporters))
            else:
                groups = {}
                for mask, m, _ in supporters:
                    k = mask & ever
                    groups[k] = groups.get(k, 0) + m
            fine = self._fine_classes[c] = (ever, groups)
        h: dict[int, int] | None = None
        if fine[0] != s and masks:
            h = self._split_from_recent(c, fine, masks, bought)
        if h is not None:
            pass
        elif fine[0] == s:
            h = fine[1]  # nothing to fold (so in the first run)
        else:
            h = {}
            for k, m in fine[1].items():
                k &= s
                h[k] = h.get(k, 0) + m
        mask_ids, id_projects = self._mask_ids, self._id_projects
        ids: list[int | None] = list(map(mask_ids.get, h))
        if None in ids:
            keys = list(h)
            for j in compress(count(), map(is_, ids, repeat(None))):
                k = keys[j]
                ids[j] = mask_ids[k] = len(id_projects)
                self._new_id(tuple(mask_projects(k)))
        projects = tuple(map(id_projects.__getitem__, ids))  # type: ignore[arg-type]
        width = max(map(len, projects), default=0)
        pairs = tuple(
            tuple(map(column.__getitem__, ids))  # type: ignore[arg-type]
            for column in self._id_pairs[: (width + 1) // 2]
        )
        got = self._class_cache[s, c] = SupporterClasses(
            pairs,
            tuple(h.values()),
            projects,
            h if h is not fine[1] else dict(h),  # _enter changes the fine classes
            self.n_projects,
            width,
            mask_projects(s),
        )
        return got

    def _new_id(self, projects: tuple[int, ...]) -> None:
        """Give the next id to the class mask of ``projects``: its projects, and its
        projects two by two as indices into ``RunState.pair_sums`` (padded with the
        project that costs nothing, ``n_projects``), one column per two."""
        stride = self.n_projects + 1
        pad = self.n_projects
        columns = self._id_pairs
        while len(columns) * 2 < len(projects):  # a wider mask than any before
            columns.append([pad * stride + pad] * len(self._id_projects))
        padded = (*projects, pad)
        for j, column in enumerate(columns):
            if 2 * j < len(projects):
                column.append(padded[2 * j] * stride + padded[2 * j + 1])
            else:
                column.append(pad * stride + pad)
        self._id_projects.append(projects)

    def _split_from_recent(
        self,
        c: int,
        fine: tuple[int, dict[int, int]],
        masks: Sequence[int],
        bought: Sequence[int],
    ) -> dict[int, int] | None:
        """The classes of ``c``'s supporters (mask → voters) after the set
        ``masks[len(bought)]``, split from those after one of the run's last few sets
        (if kept) by each purchase made since; ``None`` if none of them is kept. The
        fine classes ``fine`` are up to date with every purchase of that set."""
        cache = self._class_cache
        last = len(bought)  # masks[last] is the set asked for
        for j in range(last - 1, max(last - 1 - _SPLIT_REACH, -1), -1):
            base = cache.get((masks[j], c))
            if base is not None:
                break
        else:
            return None
        h = dict(base.counts)
        by_project = self._fine_by_project.get(c)
        if by_project is None or by_project[0] != fine[0]:
            by_project = self._fine_by_project[c] = (fine[0], {})
        split = by_project[1]
        before = masks[j]
        for w in bought[j:last]:
            bit = 1 << w
            entries = split.get(w)
            if entries is None:  # the fine classes that supported w
                entries = split[w] = [(k, m) for k, m in fine[1].items() if k & bit]
            for k, m in entries:  # move their voters to the class that also paid for w
                k &= before
                left = h[k] - m
                if left:
                    h[k] = left
                else:
                    del h[k]
                k |= bit
                h[k] = h.get(k, 0) + m
            before |= bit
        return h

    def _enter(self, w: int) -> None:
        """``w`` is bought for the first time in any run, and fine classes do not tell it
        apart yet: split the fine classes of every project its supporters supported by
        whether they supported ``w``."""
        ever = self._told_apart
        bit = 1 << w
        self._told_apart = ever | bit
        if self._first_run:
            return
        fresh = {c: f for c, (e, f) in self._fine_classes.items() if e == ever}
        for mask, m, ids in self.supporters[w]:
            old = mask & ever
            new = old | bit
            for c in ids:
                f = fresh.get(c)
                if f is not None:
                    left = f[old] - m
                    if left:
                        f[old] = left
                    else:
                        del f[old]
                    f[new] = f.get(new, 0) + m
        for c, f in fresh.items():
            self._fine_classes[c] = (ever | bit, f)
