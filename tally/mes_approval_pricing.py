"""Pricing for ``mes_approval``: the classes of each project's supporters, the price
of a project in a run, and the lower bounds one run lends another.

A run is just its shares: a voter who supported the set ``K`` of bought projects has
``max(0, e − Σ_{i∈K} p_i)`` left (``e`` the per-voter budget, ``p_i`` the share paid for
``i``), so voters who supported the same bought projects form a class with one budget.
Finding a project's price means finding which of its supporters' classes pay all they
have (the poor) and which pay the share (the rich); see ``mes_approval`` for how that is
done on fixed-point budgets, checked exactly, starting from the last price found after
the same set of purchases, and for the bounds between runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction
from functools import partial, reduce
from operator import itemgetter, or_
from typing import Any

from tally.mes_approval_bounds import ApprovalBounds
from tally.mes_approval_state import SHIFT, RunState, SupporterClasses, mask_projects
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["ApprovalPricing"]

# Classes further than e/2**_MARGIN from both boundaries are set aside until budgets may
# have moved that much (a few add1 steps).
_MARGIN = 3


class ApprovalPricing(ApprovalBounds):
    """A profile prepared for pricing projects with one utility each, in many runs.

    ``supporters[c]`` lists the voter types supporting ``c`` as ``(bit mask of the
    candidates they supported, voters, those candidates)``; ``votes[c]`` counts them and
    ``utility[c]`` is what ``c`` is worth to each (``utilities`` and
    ``utilities_per_project`` give the same as ``MesEngine`` has them).
    ``scaled_cost[c]`` is the cost times ``n_voters``; ``initial_bound[c]`` the price if
    every supporter paid the share. ``_neighbours[c]``: the candidates that share a
    supporter with ``c``, whose price buying ``c`` can change.

    Across runs it keeps: ``_ever_bought``, every project any run bought, as a mask;
    ``_fine_classes[c]``, ``c``'s supporters near_only by the ever-bought projects they
    supported (the classes after any set of purchases are folds of these), with the
    mask they are up to date with; ``_class_cache``, the ``SupporterClasses`` of each
    (set, project); ``_last_share[c]``, the last fixed-point share found for ``c``;
    ``_mask_projects``, each class mask's projects; and ``_pricings``, the last pricing
    of each (set, project), which bounds its price in other runs.
    """

    def __init__(
        self,
        prof: Profile,
        candidates: Sequence[int],
        factor: Sequence[int],
        ties: Ties,
        rationals: Any = Fraction,
    ) -> None:
        """Same arguments as ``MesEngine``; ``one_utility`` must hold. ``rationals`` is
        the exact rational type prices are given in."""
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
        add = {c: supporters[c].append for c in candidates}
        for entry in zip(type_masks, types.values(), types, strict=True):
            for c in entry[2]:
                add[c](entry)
        masks, projects = itemgetter(0), itemgetter(2)
        shared = {c: reduce(or_, map(masks, supporters[c]), 0) for c in candidates}
        co_supported = {
            c: max(map(len, map(projects, supporters[c])), default=1) - 1 for c in candidates
        }
        self.candidates = [c for c in candidates if supporters[c]]
        self.supporters = supporters
        # co_supported[c]: the most other candidates one supporter of c supported
        self._co_supported = co_supported
        # A class's fixed-point budget is off by at most half a unit per share it paid.
        self._slack = max(co_supported.values(), default=0) // 2 + 2
        self._deviations_kept = min(max(max(co_supported.values(), default=1), 1), 8)
        self.votes = {c: sum(map(itemgetter(1), supporters[c])) for c in self.candidates}
        # every supporter gives the same weight: the points over the votes
        self.utility = {c: prof.points[c] // prof.votes[c] * factor[c] for c in self.candidates}
        self.utilities = {c: [self.utility[c]] for c in self.candidates}  # as MesEngine has them
        self.utilities_per_project = 1
        self.scaled_cost = [c * self.n_voters for c in prof.costs]
        self.initial_bound = {
            c: rationals(self.scaled_cost[c], self.votes[c] * self.utility[c])
            for c in self.candidates
        }
        self._neighbours = {c: tuple(mask_projects(shared[c] & ~(1 << c))) for c in self.candidates}
        self._ever_bought = 0  # every project any run has bought, as a bit mask
        # fine[c]: c's supporters by which ever-bought projects they supported (the
        # classes after any set of purchases are folds of these), with the ever-bought
        # mask they are up to date with. In the first run, where a project enters at
        # every round, they are rebuilt from the voter types when needed; afterwards each
        # new project splits the up-to-date ones (_enter), stale ones are rebuilt.
        self._fine_classes: dict[int, tuple[int, dict[int, int]]] = {}
        self._first_run = True
        self._class_cache: dict[tuple[int, int], SupporterClasses] = {}
        self._last_share: dict[int, int] = {}  # each project's last fixed-point share
        self._mask_projects: dict[int, tuple[int, ...]] = {0: ()}
        # lower bounds lent between runs: (set, project) -> the last pricing there
        self._pricings: dict[tuple[int, int], tuple[Any, ...]] = {}

    # -- classes ---------------------------------------------------------------------

    def _classes_of(self, c: int, s: int) -> SupporterClasses:
        """The classes of ``c``'s supporters after the set ``s`` (cached)."""
        got = self._class_cache.get((s, c))
        if got is not None:
            return got
        fine = self._fine_classes.get(c)
        if fine is None or s & ~fine[0]:
            groups: dict[int, int] = {}
            ever = self._ever_bought
            for mask, m, _ in self.supporters[c]:
                k = mask & ever
                groups[k] = groups.get(k, 0) + m
            fine = self._fine_classes[c] = (ever, groups)
        if fine[0] == s:
            h = dict(fine[1])  # nothing to fold (so in the first run)
        else:
            h = {}
            for k, m in fine[1].items():
                k &= s
                h[k] = h.get(k, 0) + m
        projects_of = self._mask_projects
        projects = []
        for k in h:
            b = projects_of.get(k)
            if b is None:
                b = projects_of[k] = tuple(mask_projects(k))
            projects.append(b)
        got = self._class_cache[s, c] = SupporterClasses(list(h), list(h.values()), projects)
        return got

    # -- pricing ---------------------------------------------------------------------

    def _price(self, c: int, st: RunState) -> tuple[Any, Any, int, int] | None:
        """``(ρ, share, rich voters, poor voters with money left)`` for ``c`` now, or
        ``None`` if its supporters cannot pay for it; records the result for other runs."""
        rounds = len(st.bought)
        s = st.bought_masks[rounds]
        cl = self._classes_of(c, s)
        voters = cl.voters
        slack = self._slack
        zero = -slack  # a class whose value is below this has nothing left
        d = st.denominator
        cost = self.scaled_cost[c] * d
        start = cl.last_share
        band = cl.band
        if start is None:
            # first pricing after this set: start from c's last share after any set
            start = self._last_share.get(c)
            if start is None:
                start, band = 0, 1 << 400  # nothing to start from: every class in the band
            else:
                band = (start >> 3) + 8 * slack
        # How far any class's fixed-point budget can be from its value in cl.reference.
        moved = -1
        if cl.reference is not None:
            moved = 0
            if cl.reference is not st:
                moved = abs(st.budget_fixed - cl.reference.budget_fixed) + st.deviation_bound(
                    cl.reference, rounds, self._co_supported[c]
                )
        near_only = None
        looked: Sequence[int] = ()
        looked_masks: list[int] = []
        poor_base: list[int] = []
        rich_base = 0
        while True:
            low, high = start - band, start + band
            ok = (
                moved >= 0
                and cl.empty_below + moved <= zero
                and cl.rich_from - moved >= high
                and (not cl.surely_poor or cl.surely_poor_below + moved <= low)
            )
            if near_only is not ok:
                near_only = ok
                if ok:
                    looked, looked_masks, rich_base, poor_base = (
                        cl.near,
                        cl.near_masks,
                        cl.far_rich_voters,
                        cl.surely_poor,
                    )
                else:
                    looked, looked_masks, rich_base, poor_base = range(len(voters)), cl.masks, 0, []
                budgets: list[Any] = list(map(st.fixed_budget.get, looked_masks))
                if None in budgets:
                    self._fill(st, cl, looked, looked_masks, budgets)
            # One pass: surely poor (below the band), in the band, surely rich (above).
            poor: list[int] = list(poor_base)
            band_classes: list[tuple[int, int]] = []
            rich = rich_base
            for i, a in zip(looked, budgets, strict=True):
                if a >= high:
                    rich += voters[i]
                elif a >= low:
                    if a >= zero:
                        band_classes.append((a, i))
                elif a >= zero:
                    poor.append(i)
            band_classes.sort()
            # Which classes in the band pay all they have, on the fixed-point budgets.
            count = rich + sum([voters[i] for _, i in band_classes])
            rest = cost - self._poor_money(cl, st, poor)
            rest_fixed = (rest << SHIFT) // d
            j = 0
            for a, i in band_classes:
                if a * count >= rest_fixed:
                    break
                rest_fixed -= a * voters[i]
                count -= voters[i]
                j += 1
            for _, i in band_classes[:j]:
                rest -= st.exact_budget(cl.projects[i]) * voters[i]
            self._add_poor(cl, [i for _, i in band_classes[:j]])
            if not count and rest <= 0:
                # Enough money after all: a class taken as unable to pay the share can
                # (a tie the fixed point cannot tell). Decide every class exactly.
                everyone = poor + [i for _, i in band_classes]
                rest, count = self._exact_band(cl, st, [], everyone, rich, cost)
                share_up = -(-(rest << SHIFT) // (d * count))
                break
            if not count:
                # every supporter with money left would pay all of it: not enough
                self._unaffordable(c, st, s, cost - rest)
                return None
            share_up = -(-(rest << SHIFT) // (d * count))  # ⌈share · 2**32⌉
            share_down = (rest << SHIFT) // (d * count)  # ⌊share · 2**32⌋
            # A class with a + slack ≤ ⌊share⌋ has less than the share, one with
            # a − slack ≥ ⌈share⌉ at least the share: if every class is on the side it
            # was put on, the partition, hence the share, is the true one.
            if (poor and low - 1 + slack > share_down) or (rich and high - slack < share_up):
                band = band * 4 + abs(share_up - start) * 2 + 4 * slack  # the band was too narrow
                continue
            if (j and band_classes[j - 1][0] + slack > share_down) or (
                j < len(band_classes) and band_classes[j][0] - slack < share_up
            ):
                # a class in the band too close to the share to tell: decide exactly
                rest, count = self._exact_band(
                    cl, st, poor, [i for _, i in band_classes], rich, cost
                )
                share_up = -(-(rest << SHIFT) // (d * count))
            break
        # Next time start from this share, with a band a little wider than its move.
        cl.band = (
            max(abs(share_up - start) * 2, 8 * slack) if cl.last_share is not None else 8 * slack
        )
        cl.last_share = self._last_share[c] = share_up
        if not near_only:
            # Every class was looked at: set aside those far from both boundaries.
            margin = st.budget_fixed >> _MARGIN
            empty_below = cl.empty_below = zero - margin
            rich_from = cl.rich_from = share_up + cl.band + margin
            poor_from, poor_below = zero + margin, share_up - cl.band - margin
            cl.surely_poor_below = poor_below
            surely_poor = [i for i, a in enumerate(budgets) if poor_from <= a < poor_below]
            near = [
                i
                for i, a in enumerate(budgets)
                if empty_below <= a < rich_from and not poor_from <= a < poor_below
            ]
            cl.near, cl.near_masks = near, [cl.masks[i] for i in near]
            cl.surely_poor, cl.surely_poor_voters = (
                surely_poor,
                sum([voters[i] for i in surely_poor]),
            )
            cl.far_rich_voters = sum(
                [m for m, a in zip(voters, budgets, strict=True) if a >= rich_from]
            )
            cl.near_voters = sum([voters[i] for i in near])
            cl.reference = st
            moved = 0
        share = self._rational(rest, d * count)
        u = self.utility[c]
        price = share / u
        self._record(c, s, st, cl, price, share, count, moved)
        return price, share, count, cl.poor_voters

    def _poor_money(self, cl: SupporterClasses, st: RunState, poor: list[int]) -> int:
        """The money (times the denominator) of the classes ``poor``, all with money
        left: ``e·M − Σ_i p_i·cnt_i`` for ``M`` voters of whom ``cnt_i`` supported ``i``,
        with ``cl.poor_voters`` and ``cl.poor_supporters`` updated from the last pricing
        after the same set; they become ``cl``'s poor classes."""
        voters, projects = cl.voters, cl.projects
        now_poor = set(poor)
        old = cl.poor
        poor_supporters = cl.poor_supporters
        poor_voters = cl.poor_voters
        for i in old - now_poor:
            m = voters[i]
            poor_voters -= m
            for x in projects[i]:
                poor_supporters[x] -= m
        for i in now_poor - old:
            m = voters[i]
            poor_voters += m
            for x in projects[i]:
                poor_supporters[x] += m
        cl.poor, cl.poor_voters = now_poor, poor_voters
        numerator = st.share_numerator
        return st.budget_numerator * poor_voters - sum(
            [numerator[x] * k for x, k in poor_supporters.items() if k]
        )

    def _exact_band(
        self,
        cl: SupporterClasses,
        st: RunState,
        poor: list[int],
        band_classes: list[int],
        rich: int,
        cost: int,
    ) -> tuple[int, int]:
        """The share as ``(rest, count)`` over ``d`` when the classes ``poor`` pay all they
        have, those in ``band_classes`` all or the share as their exact budgets decide, and
        ``rich`` more voters the share."""
        voters, projects = cl.voters, cl.projects
        rest = cost - self._poor_money(cl, st, poor)
        count = rich
        exact = []
        for i in band_classes:
            b = st.exact_budget(projects[i])
            exact.append((b, i))
            count += voters[i]
        exact.sort()
        # The poorest in the band pay all they have while they cannot pay the share.
        j = 0
        while j < len(exact) and count:
            b, i = exact[j]
            if b * count >= rest:
                break
            rest -= b * voters[i]
            count -= voters[i]
            j += 1
        self._add_poor(cl, [i for _, i in exact[:j]])
        return rest, count

    def _add_poor(self, cl: SupporterClasses, more: list[int]) -> None:
        voters, projects, poor_supporters = cl.voters, cl.projects, cl.poor_supporters
        for i in more:
            cl.poor.add(i)
            m = voters[i]
            cl.poor_voters += m
            for x in projects[i]:
                poor_supporters[x] += m

    def _fill(
        self,
        st: RunState,
        cl: SupporterClasses,
        looked: Sequence[int],
        looked_masks: list[int],
        budgets: list[Any],
    ) -> None:
        """Compute the fixed-point budgets of the classes this run meets for the first
        time (``None`` in ``budgets``; ``looked`` the classes' indices, ``looked_masks``
        their masks)."""
        projects = cl.projects
        get = st.share_fixed.__getitem__
        budget_fixed = st.budget_fixed
        missing = [j for j, a in enumerate(budgets) if a is None]
        new = [budget_fixed - sum(map(get, projects[looked[j]])) for j in missing]
        slack = self._slack
        if min(map(abs, new)) <= slack:
            for n, a in enumerate(new):
                if -slack <= a <= slack and st.exact_budget(projects[looked[missing[n]]]) <= 0:
                    # Too close to zero to tell, and exactly nothing left: stored just below
                    # the line, as the (shallow) zero it is; a huge negative value would
                    # pass for a class far below zero, which a richer run could not revive.
                    new[n] = -slack - 1
        for j, a in zip(missing, new, strict=True):
            budgets[j] = a
        st.fixed_budget.update(zip([looked_masks[j] for j in missing], new, strict=True))

    def _enter(self, w: int) -> None:
        """``w`` is bought for the first time in any run: split the fine classes of every
        project its supporters supported by whether they supported ``w``."""
        ever = self._ever_bought
        bit = 1 << w
        self._ever_bought = ever | bit
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
