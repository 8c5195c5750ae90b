"""Lower bounds one run of ``mes_approval`` lends another.

A supporter of ``c`` who supported the bought projects ``K`` has, in a run at budget
``e``, a budget within ``|e − e'| + Σ_{i∈K} |p_i − p'_i|`` of what it had in a run at
``e'`` that reached the same set. So a pricing of ``c`` in one run bounds its price in
another (``_bound``); each pricing is recorded for that (``_record``).
"""

from __future__ import annotations

from itertools import compress
from operator import mul
from typing import Any

from tally.mes_approval_state import SHIFT, RunState, SupporterClasses

__all__ = ["ApprovalBounds"]


class ApprovalBounds:
    """The records of pricings and the bounds drawn from them, for ``ApprovalPricing``
    (which sets the attributes below).

    ``_pricings[c][set]``: the last pricing of ``c`` after that set of purchases, in any
    run: ``(price or None, money, voters with nothing left, of them those deep below
    zero, how deep, the classes, the utility of the rich, the run)``.
    """

    votes: dict[int, int]
    utility: dict[int, int]
    scaled_cost: list[int]
    _slack: int
    _rational: Any
    _class_cache: dict[tuple[int, int], SupporterClasses]
    _pricings: dict[int, dict[int, tuple[Any, ...]]]

    def _record(
        self,
        c: int,
        s: int,
        st: RunState,
        cl: SupporterClasses,
        price: Any,
        money: Any,
        rich: int,
        moved: int,
    ) -> None:
        """Keep what later runs need to bound ``c``'s price after the set ``s`` from this
        pricing: the price (or, if unaffordable, the money), the voters with nothing left
        (those at least ``depth`` below zero apart), the classes (whose poor voters with
        money left, and ``poor_supporters`` for them, are this pricing's until the next
        pricing after the same set, which replaces this record too) and the utility of
        the rich."""
        votes = self.votes[c]
        zero = votes - rich - cl.poor_voters
        deep, depth = 0, -1
        if moved >= 0:
            deep = votes - cl.far_rich_voters - cl.near_voters - cl.surely_poor_voters
            depth = -self._slack - cl.empty_below - moved
        self._pricings[c][s] = (
            price,
            money,
            zero - deep,
            deep,
            depth,
            cl,
            rich * self.utility[c],
            st,
        )

    def _unaffordable(self, c: int, st: RunState, s: int, money: int) -> None:
        """Record that ``c``'s supporters, with ``money`` (times ``d``) in all, cannot pay
        for it."""
        cl = self._class_cache[s, c]
        self._record(c, s, st, cl, None, self._rational(money, st.denominator), 0, -1)

    def _bound(self, c: int, st: RunState, first: int, known: Any) -> tuple[Any, bool]:
        """The best lower bound on ``c``'s ρ from pricings (in any run) after the sets this
        run went through from round ``first`` on, and whether one proves ``c``
        unaffordable (``known``: money lower bound already known, records that cannot beat it
        are skipped).

        A supporter who supported the bought projects ``K`` has money budget within
        ``|Δe| + Σ_{i∈K} |Δp_i|`` of the other run's (``Δ`` between the runs); summed
        over the supporters who could not pay the share there, that is at most
        ``|Δe|·P + Σ_i |Δp_i|·cnt_i`` for those with money left, and ``|Δe|`` plus the
        largest possible ``Σ |Δp_i|`` each for those with nothing left (nothing for those
        too deep below zero to come back). It bounds how much less the rich must pay."""
        best: Any = known
        e = st.budget
        rec = self._pricings[c]
        sets = st.bought_masks
        rounds = len(st.bought)
        # the rounds from the last down to first whose set has a record for c
        recorded = compress(
            range(rounds, first - 1, -1), map(rec.__contains__, reversed(sets[first : rounds + 1]))
        )
        for j in recorded:
            got = rec[sets[j]]
            price, money, zero, deep, depth, cl, rich_utility, ref = got
            if ref is st or (price is not None and price <= best):
                continue
            de = abs(e - ref.budget) << SHIFT
            top = st.deviation_bound(ref, j, cl.width)
            if de + top > depth:
                zero += deep
            spread = (
                de * (cl.poor_voters + zero)
                + zero * top
                + sum(map(mul, cl.bought(st.share_deviation[ref]), cl.bought(cl.poor_supporters)))
            )
            if price is None:
                if money + self._rational(spread, 1 << SHIFT) < self.scaled_cost[c]:
                    return None, True
                continue
            bound = price - self._rational(spread, rich_utility << SHIFT) if spread else price
            if bound > best:
                best = bound
        return best, False
