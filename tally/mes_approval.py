"""The Method of Equal Shares when every supporter of a project gets the same utility from
it (approval and choice ballots, cost or cardinality satisfaction): the engine behind the
add1 completion's hundreds of runs. It computes exactly what ``mes_engine.MesEngine``
computes; the choices that make it fast:

- **A class's budget has a closed form.** A voter who supported the set ``K`` of bought
  projects has ``max(0, e − Σ_{i∈K} p_i)`` left (``e`` the per-voter budget, ``p_i`` the
  share paid for ``i``: a purchase takes ``min(budget, p_i)``, and
  ``max(0, max(0, b − x) − y) = max(0, b − x − y)`` for ``x, y ≥ 0``). A run is just its
  shares: no table of budgets is rewritten at each purchase. The money of the supporters
  of a project who pay all they have is ``e·M − Σ_i p_i·cnt_i`` (``M`` of them, ``cnt_i``
  of whom supported ``i``): exact, with one product per bought project.
- **Who pays all they have is decided on fixed-point integers, checked exactly.** A
  class's budget times 2**4 (``SHIFT``) is taken as ``e·2**4 − Σ round(p_i·2**4)``, off
  by at most half a unit per project (``_slack`` units in all). A class clearly on one side of
  the share is on that side; the few within the slack of it are computed exactly. The
  share found is exact, and so is every decision made with it.
- **Each price starts from the last price after the same set of purchases** (in any
  run): the classes far below or above it are taken as poor or rich in one pass, those
  in a band around it are decided one by one, and the band is widened if the share found
  leaves it. The classes far from both boundaries (nothing left, surely poor, surely
  rich) are set aside, counted but not looked at, as long as no budget can have moved
  that far since they were last looked at (a bound from the share differences between
  the two runs, ``RunState.deviation_bound``).
- **Runs lend each other lower bounds** (``search`` only). A supporter of ``c`` who
  supported the bought projects ``K`` has, in a run at budget ``e``, a budget within
  ``|e − e'| + Σ_{i∈K} |p_i − p'_i|`` of what it had in a run at ``e'`` that reached the
  same set. So if that run priced ``c`` at ``ρ`` with ``W`` the utility of those who paid
  the share, ``ρ(e) ≥ ρ − D/W``, where ``D`` sums that distance over the supporters who
  could not pay the share there (``|e − e'|·P + Σ_i |p_i − p'_i|·cnt_i`` for those with
  money left, the largest possible distance for those with nothing left, and nothing
  for those too deep below zero to come back): more money for them lowers what the
  others pay by at most ``D`` in all. Likewise a project its supporters could not afford
  stays unaffordable while its money plus ``D`` is below its cost. A run prices what it
  buys and the rivals whose bounds come close; a bound only skips a project that cannot
  win, so each purchase is the exact argmin (price, then tie-break rank).
- The supporters of each project are grouped by which projects they supported of those
  bought so far, or, for add1's many runs, of every candidate ("fine" classes); the
  classes after a set of purchases are folds of these.

``run`` keeps ``MesEngine.run``'s pricing order (so the same rounds in which projects are
found unaffordable, which the trace reports); ``search`` finds the same purchases with the
bounds, for add1's intermediate runs. With the ``refuse`` tie-break the outcome depends on
which tie is met first, so ``search`` is ``run`` then.

The engine is in six modules: ``mes_approval_state`` (a project's supporter classes
after a set of purchases, and one run's shares), ``mes_approval_classes`` (the voter
types and the classes of each project's supporters), ``mes_approval_pricing`` (the price
of a project in a run), ``mes_approval_sorted`` (a pass over all of a project's classes,
by budget), ``mes_approval_bounds`` (the bounds one run lends another) and this one (the
runs).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from tally.mes_approval_pricing import ApprovalPricing
from tally.mes_approval_state import RunState
from tally.mes_run import Purchase, Run
from tally.profile import Profile

__all__ = ["ApprovalMes", "one_utility"]


def _place(bound: Any, rank: int) -> tuple[Any, Any, int]:
    """A key that orders as ``(bound, rank)`` for a positive exact rational ``bound``:
    ``⌊bound · 2**64⌋`` first (never larger for a smaller bound), then the bound itself
    for the rare equal integers, then the rank."""
    return ((bound.numerator << 64) // bound.denominator, bound, rank)


def one_utility(prof: Profile, candidates: Sequence[int]) -> bool:
    """Whether all supporters of each candidate give it the same weight (always so for
    approval and choice ballots), so that it has one utility."""
    if all(prof.points[c] == prof.votes[c] for c in candidates):
        return True  # every weight is 1 (approval and choice ballots)
    cset = set(candidates)
    seen: dict[int, int] = {}
    for ballot in prof.types:
        for i, w in ballot:
            if i in cset and seen.setdefault(i, w) != w:
                return False
    return True


class ApprovalMes(ApprovalPricing):
    """Repeated runs of MES with one utility per project, at different per-voter budgets
    (constructed as ``ApprovalPricing``)."""

    # -- runs ------------------------------------------------------------------------

    def run(self, scaled_budget: int, *, details: bool = False) -> Run:
        """One run, pricing projects in the same order as ``MesEngine.run`` (so the same
        trace); ``scaled_budget`` is the per-voter budget times the number of voters."""
        st = RunState(scaled_budget, self.n_projects, self._deviations_kept)
        rank = self.tie_rank
        refuses = self.ties.refuses
        in_play = set(self.candidates)
        lower_bound = dict(self.initial_bound)
        # each candidate's place in the pricing order, (lower bound, rank), compared
        # first on an integer the bound does not decrease: the same order, without
        # comparing two rationals unless their integers are equal
        place = {c: _place(b, rank[c]) for c, b in lower_bound.items()}
        last_pricing: dict[int, tuple[Any, Any, int, int]] = {}
        stale = dict.fromkeys(self.candidates, True)
        out = Run(scaled_budget, [])
        rnd = 0
        while True:
            best = -1
            best_price: Any = None
            for c in sorted(in_play, key=place.__getitem__):
                if best >= 0:
                    bound_now = lower_bound[c]
                    if bound_now > best_price or (
                        bound_now == best_price and rank[c] > rank[best] and not refuses
                    ):
                        break
                if stale[c]:
                    stale[c] = False
                    got = self._price(c, st)
                    if got is None:
                        in_play.discard(c)
                        if details:
                            out.unaffordable[c] = (rnd, self._pricings[c][st.bought_masks[rnd]][1])
                        continue
                    last_pricing[c] = got
                    lower_bound[c] = got[0]
                    place[c] = _place(got[0], rank[c])
                price = lower_bound[c]
                if best < 0 or price < best_price:
                    best, best_price = c, price
                elif price == best_price:
                    best = self.ties.pick([best, c], "equal price per unit in MES")
            if best < 0:
                self._first_run = False
                st.finish()
                return out
            in_play.discard(best)
            _, share, rich, poor = last_pricing[best]
            purchase = Purchase(best, best_price)
            if details:
                purchase.payers, purchase.paid_all = rich + poor, poor
            out.purchases.append(purchase)
            self._buy(st, best, share)
            for c in self._neighbours_of(best):
                stale[c] = True
            rnd += 1

    def search(self, scaled_budget: int) -> Run:
        """The same purchases as ``run``, using the lower bounds earlier runs left; no
        trace details. With the ``refuse`` tie-break, ``run`` itself."""
        if self.ties.refuses:
            return self.run(scaled_budget)
        st = RunState(scaled_budget, self.n_projects, self._deviations_kept)
        rank = self.tie_rank
        lower_bound = dict(self.initial_bound)
        share: dict[int, Any] = {}
        priced = dict.fromkeys(self.candidates, False)
        in_play = set(self.candidates)
        bounds_from = dict.fromkeys(self.candidates, 0)  # records consulted from this round
        heap = [(lower_bound[c], rank[c], c) for c in self.candidates]
        heapq.heapify(heap)
        out = Run(scaled_budget, [])
        while True:
            best = -1
            while heap:
                bound_now, _, c = heap[0]
                if c not in in_play or bound_now != lower_bound[c]:
                    heapq.heappop(heap)  # stale: bought, dropped or bound raised since
                    continue
                if priced[c]:
                    best = c  # its price is priced and every other bound is above it
                    break
                heapq.heappop(heap)
                rounds = len(st.bought)
                if bounds_from[c] <= rounds:
                    bound, gone = self._bound(c, st, bounds_from[c], bound_now)
                    bounds_from[c] = rounds + 1
                    if gone:
                        in_play.discard(c)
                        continue
                    if bound is not None and bound > bound_now:
                        lower_bound[c] = bound
                        heapq.heappush(heap, (bound, rank[c], c))
                        continue
                got = self._price(c, st)
                if got is None:
                    in_play.discard(c)
                    continue
                price, share[c] = got[0], got[1]
                lower_bound[c] = price
                priced[c] = True
                heapq.heappush(heap, (price, rank[c], c))
            if best < 0:
                self._first_run = False
                st.finish()
                return out
            heapq.heappop(heap)
            in_play.discard(best)
            out.purchases.append(Purchase(best, lower_bound[best]))
            self._buy(st, best, share[best])
            for c in self._neighbours_of(best):
                priced[c] = False

    def _buy(self, st: RunState, w: int, share: Any) -> None:
        """Record the purchase of ``w`` at ``share`` in ``st``."""
        st.buy(w, share)
        if not self._told_apart >> w & 1:
            self._enter(w)
