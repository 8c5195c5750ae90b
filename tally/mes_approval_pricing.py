"""Pricing for ``mes_approval``: the price of a project in a run, from the classes of its
supporters (``mes_approval_classes``).

A run is just its shares: a voter who supported the set ``K`` of bought projects has
``max(0, e − Σ_{i∈K} p_i)`` left (``e`` the per-voter budget, ``p_i`` the share paid for
``i``), so voters who supported the same bought projects form a class with one budget.
Finding a project's price means finding which of its supporters' classes pay all they
have (the poor) and which pay the share (the rich); see ``mes_approval`` for how that is
done on fixed-point budgets, checked exactly, starting from the last price found after
the same set of purchases, and for the bounds between runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import mul, sub
from typing import Any

from tally.mes_approval_classes import ApprovalClasses
from tally.mes_approval_sorted import SortedClasses
from tally.mes_approval_state import SHIFT, RunState, SupporterClasses

__all__ = ["ApprovalPricing"]

# Classes further than e/2**_MARGIN from both boundaries are set aside until budgets may
# have moved that much (a few add1 steps).
_MARGIN = 3


class ApprovalPricing(ApprovalClasses):
    """Prices of projects with one utility each, in many runs (constructed as
    ``ApprovalClasses``)."""

    # -- pricing ---------------------------------------------------------------------

    def _price(self, c: int, st: RunState) -> tuple[Any, Any, int, int] | None:
        """``(ρ, share, rich voters, poor voters with money left)`` for ``c`` now, or
        ``None`` if its supporters cannot pay for it; records the result for other runs."""
        rounds = len(st.bought)
        s = st.bought_masks[rounds]
        cl = self._classes_of(c, s, st.bought_masks, st.bought)
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
                    cl.reference, rounds, cl.width
                )
        near_only = None
        ordered: SortedClasses | None = None
        looked: Sequence[int] = ()
        poor_base: Sequence[int] = ()
        rich_base = 0
        while True:
            low, high = start - band, start + band
            ok = moved >= 0 and self._aside_holds(cl, moved, low, high)
            if near_only is not ok:
                near_only = ok
                if ok:
                    looked, pairs, rich_base, poor_base = (
                        cl.near,
                        cl.near_pairs,
                        cl.far_rich_voters,
                        cl.surely_poor,
                    )
                else:
                    looked, pairs, rich_base, poor_base = range(len(voters)), cl.pairs, 0, []
                budgets = self._budgets(st, pairs, looked, cl.projects, ok)
                ordered = None
                if not ok:
                    # every class: sorted by budget, each side of a boundary a bisection
                    ordered = SortedClasses(budgets, voters, cl.order)
                    if ordered.any_within(-slack, slack):  # (the check _budgets skipped)
                        self._zeros(st, budgets, looked, cl.projects)
                        ordered = SortedClasses(budgets, voters, cl.order)
            # One pass: surely poor (below the band), in the band, surely rich (above).
            if ordered is not None:
                poor, band_classes, rich = ordered.split(zero, low, high)
            else:
                poor = list(poor_base)
                band_classes = []
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
            if j:
                # the money of every poor class, these with the others: one product per
                # bought project rather than an exact budget per class
                self._add_poor(cl, [i for _, i in band_classes[:j]])
                pick = cl.bought
                paid: int = sum(map(mul, pick(st.share_numerator), pick(cl.poor_supporters)))
                rest = cost - (st.budget_numerator * cl.poor_voters - paid)
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
            share_up = -(-(rest << SHIFT) // (d * count))  # ⌈share · 2**SHIFT⌉
            share_down = (rest << SHIFT) // (d * count)  # ⌊share · 2**SHIFT⌋
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
                if not count:
                    # exactly, every supporter with money left pays all of it: not enough
                    self._unaffordable(c, st, s, cost - rest)
                    return None
                share_up = -(-(rest << SHIFT) // (d * count))
            break
        # Next time start from this share, with a band a little wider than its move.
        cl.band = (
            max(abs(share_up - start) * 2, 8 * slack) if cl.last_share is not None else 8 * slack
        )
        cl.last_share = self._last_share[c] = share_up
        if ordered is not None:
            # Every class was looked at: set aside those far from both boundaries.
            margin = st.budget_fixed >> _MARGIN
            (
                cl.surely_poor,
                cl.near,
                cl.surely_poor_voters,
                cl.near_voters,
                cl.far_rich_voters,
                limits,
            ) = ordered.set_aside(
                zero - margin,
                zero + margin,
                share_up - cl.band - margin,
                share_up + cl.band + margin,
            )
            # the classes set aside are kept by their own budgets, not by the margins
            cl.empty_below, cl.surely_poor_from, cl.surely_poor_below, cl.rich_from = limits
            cl.near_pairs = tuple(tuple(map(column.__getitem__, cl.near)) for column in cl.pairs)
            cl.reference = st
            cl.order = tuple(ordered.classes)
            moved = 0
        share = self._rational(rest, d * count)
        u = self.utility[c]
        price = share / u
        self._record(c, s, st, cl, price, share, count, moved)
        return price, share, count, cl.poor_voters

    def _aside_holds(self, cl: SupporterClasses, moved: int, low: int, high: int) -> bool:
        """Whether the classes ``cl`` set aside are still on their sides (nothing left;
        poor with money left, below the band ``low``; rich, from ``high``) when no
        budget can have moved more than ``moved`` since ``cl.reference``."""
        slack = self._slack
        return (
            cl.empty_below + moved <= -slack
            and cl.rich_from - moved >= high
            and (
                not cl.surely_poor
                or (
                    cl.surely_poor_below + moved <= low
                    and cl.surely_poor_from - moved > slack  # surely money left
                )
            )
        )

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
        paid: int = sum(map(mul, cl.bought(numerator), cl.bought(poor_supporters)))
        return st.budget_numerator * poor_voters - paid

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

    def _budgets(
        self,
        st: RunState,
        pairs: Sequence[Sequence[int]],
        looked: Sequence[int],
        projects: Sequence[tuple[int, ...]],
        near_zero: bool = True,
    ) -> list[int]:
        """The fixed-point budgets of the classes ``looked`` (of ``projects``), from the
        run's tables of pairs of shares (``pairs``: their columns of pair indices, as
        ``SupporterClasses.pairs``; the first is read in ``st.pair_left``, each other
        subtracted from ``st.pair_sums``). Unless ``near_zero`` is false
        (the caller sorts them, and looks near zero itself), those too close to zero to
        tell are decided as ``_zeros`` does."""
        column = iter(pairs)
        first = next(column, None)
        if first is None:  # no class paid for anything
            budgets = [st.budget_fixed] * len(looked)
        else:
            left: Any = map(st.pair_left.__getitem__, first)
            read = st.pair_sums.__getitem__
            for more in column:
                left = map(sub, left, map(read, more))
            budgets = list(left)
        if near_zero and budgets and min(map(abs, budgets)) <= self._slack:
            self._zeros(st, budgets, looked, projects)
        return budgets

    def _zeros(
        self,
        st: RunState,
        budgets: list[int],
        looked: Sequence[int],
        projects: Sequence[tuple[int, ...]],
    ) -> None:
        """Of the ``budgets`` of the classes ``looked``, those too close to zero to tell
        whose class has exactly nothing left are set just below zero."""
        slack = self._slack
        for n, a in enumerate(budgets):
            if -slack <= a <= slack and st.exact_budget(projects[looked[n]]) <= 0:
                # Too close to zero to tell, and exactly nothing left: taken as just
                # below the line, as the (shallow) zero it is; a huge negative value
                # would pass for a class far below zero, which a richer run could
                # not revive.
                budgets[n] = -slack - 1
