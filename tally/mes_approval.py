"""The Method of Equal Shares when every supporter of a project gets the same utility from
it (approval and choice ballots, cost or cardinality satisfaction): the engine behind the
add1 completion's hundreds of runs.

It computes exactly what ``mes_engine.MesEngine`` computes, faster:

- **A class's budget has a closed form.** A voter who supported the set ``K`` of bought
  projects has ``max(0, e − Σ_{i∈K} p_i)`` left (``e`` the per-voter budget, ``p_i`` the
  share of project ``i``: each purchase takes ``min(budget, p_i)``, and
  ``max(0, max(0, b − x) − y) = max(0, b − x − y)`` for ``x, y ≥ 0``). So the money of the
  poor supporters of a project (who pay all they have) is
  ``e·M − Σ_i p_i·cnt_i``, where ``M`` counts them and ``cnt_i`` counts those of them who
  supported ``i``: exact, with a few big-number products per price, whatever the number of
  classes.
- **Which supporters are poor is decided on fixed-point integers, checked exactly.** Each
  class keeps ``a = e·2³² − Σ round(p_i·2³²)``, off from its budget times 2³² by at most
  half a unit per project it supported (``_slack``). A class whose ``a`` is clearly on one
  side of a share is on that side; only the few within the slack are computed exactly.
  The share found is exact, and so is every decision based on it.
- **Prices start from the last price of the same project after the same set**, in any
  run: supporters far below or above that threshold are taken as poor or rich at once
  (one pass over the classes), those in a band around it are sorted and decided one by
  one; if the share found leaves the band, the band is widened and the pass repeated.
  The exact poor-side sums (``cnt``) are patched from the last pricing too.
- **Runs at neighbouring budgets lend each other lower bounds** (``search`` only). If a
  run at budget ``e'`` priced ``c`` after the set ``S`` at ``ρ`` with ``P`` supporters
  unable to pay the share and ``W`` the utility of those who could, then in a run at
  budget ``e`` that reaches the same set every supporter's budget differs by at most
  ``ε = |e − e'| + η``, where ``η`` bounds ``Σ_{i∈K} |p_i − p'_i|`` over one voter's
  projects ``K``; so ``ρ(e) ≥ ρ − ε·P/W`` (raising the poor supporters' budgets by ``ε``
  lowers what the others must pay by at most ``ε·P`` in all). A project its supporters
  could not afford (money ``M`` below its cost) stays unaffordable while ``M + ε·V`` is
  (``V`` supporters). A run prices the project it buys and only the rivals whose bounds
  come close: a bound only ever skips a project that cannot win, so the purchase is the
  exact argmin (price, then tie-break rank).

``run`` reproduces ``MesEngine.run``'s scan (the same pricing order, so the same rounds in
which projects are found unaffordable, which the trace reports); ``search`` finds the same
purchases with the bounds, for the add1 completion's intermediate runs. With the
``refuse`` tie-break the outcome depends on which tie is met first, so add1 uses ``run``.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from math import lcm
from typing import Any

from tally._num import Q
from tally.mes_engine import Purchase, Run
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["ApprovalMes", "one_utility"]

_SHIFT = 32  # fixed-point budgets are in units of 2**-32 (of money scaled by n)


def one_utility(prof: Profile, candidates: Sequence[int]) -> bool:
    """Whether all supporters of each candidate give it the same weight (always so for
    approval and choice ballots), so that it has one utility."""
    cset = set(candidates)
    seen: dict[int, int] = {}
    for ballot in prof.types:
        for i, w in ballot:
            if i in cset and seen.setdefault(i, w) != w:
                return False
    return True


class _Classes:
    """The classes of a project's supporters after a set of purchases: bit masks of the
    bought projects each supported, the projects themselves, how many voters; and the
    last pricing after this set (from any run), the starting point of the next one:
    fixed-point threshold, band half-width, the classes found poor and ``cnt`` for them."""

    __slots__ = ("band", "bits", "cnt", "keys", "m", "next_keys", "poor", "poor_m", "t")

    def __init__(self, keys: list[int], m: list[int], bits: list[tuple[int, ...]]) -> None:
        self.keys = keys
        self.m = m
        self.bits = bits
        self.next_keys: list[int] | None = None  # keys | the project's bit, once bought
        self.t: int | None = None
        self.band = 0
        self.poor: set[int] = set()
        self.cnt: Counter[int] = Counter()
        self.poor_m = 0


class _State:
    """One run: per-voter budget ``e``; shares paid, exact (``pay``), as integers over a
    common denominator ``d`` (``pint``) and in fixed point (``pfix``); the fixed-point
    budget of every class met (``fb``); the purchases so far."""

    __slots__ = ("d", "e", "ed", "eta", "fb", "order", "pay", "pfix", "pint", "sets")

    def __init__(self, e: int, n_projects: int) -> None:
        self.e = e
        self.d = 1
        self.ed = e
        self.pay: dict[int, Any] = {}
        self.pint = [0] * n_projects
        self.pfix = [0] * n_projects
        self.fb: dict[int, int] = {0: e << _SHIFT}
        self.order: list[int] = []
        self.sets = [0]  # sets[j]: bit mask of the first j purchases
        self.eta: dict[_State, list[tuple[int, int]]] = {}

    def exact(self, bits: tuple[int, ...]) -> int:
        """The budget of the class that supported ``bits`` times ``d``, before clipping at 0."""
        pint = self.pint
        return self.ed - sum([pint[i] for i in bits])

    def eta_to(self, ref: _State, rounds: int, width: int) -> int:
        """A bound, in units of 2**-32, on ``Σ_{i∈K} |p_i − p_i(ref)|`` for a set ``K`` of
        at most ``width`` of this run's first ``rounds`` purchases (all of which ``ref``
        made too): the sum over all of them, or ``width`` times the largest term if that
        is smaller. Each term is taken from the fixed-point shares, plus one unit for
        their rounding (half a unit each)."""
        if ref is self:
            return 0
        sums = self.eta.get(ref)
        if sums is None:
            sums = self.eta[ref] = [(0, 0)]
        if len(sums) <= rounds:
            order, mine, theirs = self.order, self.pfix, ref.pfix
            total, top = sums[-1]
            for w in order[len(sums) - 1 : rounds]:
                dev = abs(mine[w] - theirs[w]) + 1
                total += dev
                if dev > top:
                    top = dev
                sums.append((total, top))
        total, top = sums[rounds]
        return min(total, width * top)


class ApprovalMes:
    """Repeated runs of MES with one utility per project, at different per-voter budgets."""

    def __init__(
        self,
        prof: Profile,
        candidates: Sequence[int],
        factor: Sequence[int],
        ties: Ties,
    ) -> None:
        """Same arguments as ``MesEngine``; ``one_utility`` must hold."""
        self.n = prof.n_voters
        self.ties = ties
        self.rank = ties.rank
        self.n_projects = len(prof.ids)
        cset = set(candidates)
        agg: Counter[int] = Counter()
        weight: dict[int, int] = {}
        for ballot, m in zip(prof.types, prof.mult, strict=True):
            mask = 0
            for i, w in ballot:
                if i in cset:
                    mask |= 1 << i
                    weight[i] = w
            if mask:
                agg[mask] += m
        supp: dict[int, list[tuple[int, int]]] = {c: [] for c in candidates}
        near = dict.fromkeys(candidates, 0)
        width = dict.fromkeys(candidates, 0)
        for mask, m in agg.items():
            bits = _bits(mask)
            for c in bits:
                supp[c].append((mask, m))
                near[c] |= mask
                width[c] = max(width[c], len(bits) - 1)
        self.candidates = [c for c in candidates if supp[c]]
        self.supp = supp
        # width[c]: the most other candidates one supporter of c supported
        self._width = width
        # A class's fixed-point budget is off by at most half a unit per share it paid.
        self._slack = max(width.values(), default=0) // 2 + 2
        self.votes = {c: sum(m for _, m in supp[c]) for c in self.candidates}
        self.u = {c: weight[c] * factor[c] for c in self.candidates}
        self.uvals = {c: [self.u[c]] for c in self.candidates}  # as MesEngine has them
        self.um = 1
        self.scost = [c * self.n for c in prof.costs]
        self.lb0 = {c: Q(self.scost[c], self.votes[c] * self.u[c]) for c in self.candidates}
        self._near = {c: tuple(_bits(near[c] & ~(1 << c))) for c in self.candidates}
        self._ever = 0  # every project any run has bought, as a bit mask
        self._fine: dict[int, tuple[int, list[int], list[int]]] = {}
        self._classes: dict[tuple[int, int], _Classes] = {}
        self._last_t: dict[int, int] = {}  # each project's last fixed-point share
        self._bits_of: dict[int, tuple[int, ...]] = {0: ()}
        # lower bounds lent between runs: (set, project) -> the last pricing there
        self._rec: dict[tuple[int, int], tuple[Any, Any, int, int, _State]] = {}

    # -- classes ---------------------------------------------------------------------

    def _classes_of(self, c: int, s: int) -> _Classes:
        """The classes of ``c``'s supporters after the set ``s`` (cached)."""
        got = self._classes.get((s, c))
        if got is not None:
            return got
        # Supporters grouped by the ever-bought projects they support ("fine" classes, a
        # grouping that does not depend on s), then folded by s.
        fine = self._fine.get(c)
        if fine is None or s & ~fine[0]:
            groups: dict[int, int] = {}
            ever = self._ever
            for mask, m in self.supp[c]:
                k = mask & ever
                groups[k] = groups.get(k, 0) + m
            fine = self._fine[c] = (ever, list(groups), list(groups.values()))
        h: dict[int, int] = {}
        for k, m in zip(fine[1], fine[2], strict=True):
            k &= s
            h[k] = h.get(k, 0) + m
        bits_of = self._bits_of
        bits = []
        for k in h:
            b = bits_of.get(k)
            if b is None:
                b = bits_of[k] = tuple(_bits(k))
            bits.append(b)
        got = self._classes[s, c] = _Classes(list(h), list(h.values()), bits)
        return got

    # -- pricing ---------------------------------------------------------------------

    def _price(self, c: int, st: _State) -> tuple[Any, Any, int, int] | None:
        """``(ρ, share, rich voters, poor voters with money left)`` for ``c`` now, or
        ``None`` if its supporters cannot pay for it; records the result for other runs."""
        rounds = len(st.order)
        s = st.sets[rounds]
        cl = self._classes_of(c, s)
        fb = st.fb
        vals: list[Any] = list(map(fb.get, cl.keys))
        ms = cl.m
        slack = self._slack
        if None in vals:
            self._fill(st, cl, vals)
        zero = -slack  # a class whose value is below this has nothing left
        d = st.d
        cost = self.scost[c] * d
        t = cl.t
        band = cl.band
        if t is None:
            # first pricing after this set: start from c's last share after any set
            t = self._last_t.get(c)
            if t is None:
                t, band = 0, 1 << 400  # nothing to start from: every class in the band
            else:
                band = (t >> 3) + 8 * slack
        while True:
            low, high = t - band, t + band
            # One pass: surely poor (below the band), in the band, surely rich (above).
            poor: list[int] = []
            mid: list[int] = []
            rich = 0
            for i, a in enumerate(vals):
                if a >= high:
                    rich += ms[i]
                elif a >= low:
                    if a >= zero:
                        mid.append(i)
                elif a >= zero:
                    poor.append(i)
            rest, count = self._solve(cl, st, poor, mid, rich, cost)
            if not count:
                if rest > 0:
                    # every supporter with money left would pay all of it: not enough
                    self._unaffordable(c, cl, st, s)
                    return None
                band = 1 << 400  # enough money after all: look at every class
                continue
            qfix = -(-(rest << _SHIFT) // (d * count))  # ⌈share · 2**32⌉
            # Every class taken as surely poor has less than the share, every class
            # taken as surely rich at least the share (their values are within the
            # slack of the truth): then the partition is the true one.
            if (low + slack <= qfix or not poor) and (high - slack >= qfix or not rich):
                break
            band = band * 4 + abs(qfix - t) * 2 + 4 * slack
        # Next time start from this share, with a band a little wider than its move.
        cl.band = max(abs(qfix - t) * 2, 8 * slack) if cl.t is not None else 8 * slack
        cl.t = self._last_t[c] = qfix
        share = Q(rest, d * count)
        u = self.u[c]
        rho = share / u
        self._rec[s, c] = (rho, share, self.votes[c] - count, count * u, st)
        return rho, share, count, cl.poor_m

    def _solve(
        self,
        cl: _Classes,
        st: _State,
        poor: list[int],
        mid: list[int],
        rich: int,
        cost: int,
    ) -> tuple[int, int]:
        """The share as ``(rest, count)`` over ``d`` when the classes ``poor`` pay all they
        have, those in ``mid`` pay all or the share as their exact budgets decide, and
        ``rich`` more voters pay the share (``count`` is 0 if everyone in ``poor`` and
        ``mid`` pays all they have and no one else can pay). Updates ``cl``'s record of
        the poor classes and their counts."""
        ms, bits = cl.m, cl.bits
        pset = set(poor)
        old = cl.poor
        cnt = cl.cnt
        poor_m = cl.poor_m
        for i in old - pset:
            m = ms[i]
            poor_m -= m
            for x in bits[i]:
                cnt[x] -= m
        for i in pset - old:
            m = ms[i]
            poor_m += m
            for x in bits[i]:
                cnt[x] += m
        cl.poor, cl.poor_m = pset, poor_m
        pint = st.pint
        # money of the surely poor: e·M − Σ p_i·cnt_i (over d)
        money = st.ed * poor_m - sum([pint[x] * k for x, k in cnt.items() if k])
        rest = cost - money
        count = rich
        exact = []
        for i in mid:
            b = st.exact(bits[i])
            if b > 0:
                exact.append((b, i))
                count += ms[i]
        exact.sort()
        # The poorest in the band pay all they have while they cannot pay the share.
        j = 0
        while j < len(exact) and count:
            b, i = exact[j]
            if b * count >= rest:
                break
            rest -= b * ms[i]
            count -= ms[i]
            j += 1
        self._add_poor(cl, [i for _, i in exact[:j]])
        return rest, count

    def _add_poor(self, cl: _Classes, more: list[int]) -> None:
        ms, bits, cnt = cl.m, cl.bits, cl.cnt
        for i in more:
            cl.poor.add(i)
            m = ms[i]
            cl.poor_m += m
            for x in bits[i]:
                cnt[x] += m

    def _unaffordable(self, c: int, cl: _Classes, st: _State, s: int) -> None:
        """Record that ``c``'s supporters (all of whom would pay all they have) cannot
        pay for it, and how much money they have."""
        money = Q(st.ed * cl.poor_m - sum([st.pint[x] * k for x, k in cl.cnt.items() if k]), st.d)
        self._rec[s, c] = (None, money, self.votes[c], 0, st)

    def _bound(self, c: int, st: _State, first: int) -> tuple[Any, bool]:
        """The best lower bound on ``c``'s ρ from pricings (in any run) after the sets this
        run went through from round ``first`` on, and whether one proves ``c``
        unaffordable."""
        best: Any = None
        e = st.e
        rec = self._rec
        width = self._width[c]
        for j in range(len(st.order), first - 1, -1):
            got = rec.get((st.sets[j], c))
            if got is None:
                continue
            rho, a, poor, w, ref = got
            if ref is st:
                continue
            # ε, the most a supporter's budget can differ, in units of 2**-32
            eps = (abs(e - ref.e) << _SHIFT) + st.eta_to(ref, j, width)
            if rho is None:
                if a + Q(eps * poor, 1 << _SHIFT) < self.scost[c]:
                    return None, True
                continue
            bound = rho - Q(eps * poor, w << _SHIFT) if poor else rho
            if best is None or bound > best:
                best = bound
        return best, False

    # -- runs ------------------------------------------------------------------------

    def run(self, scaled_budget: int, *, details: bool = False) -> Run:
        """One run, pricing projects in the same order as ``MesEngine.run`` (so the same
        trace); ``scaled_budget`` is the per-voter budget times the number of voters."""
        st = _State(scaled_budget, self.n_projects)
        rank = self.rank
        refuses = self.ties.refuses
        playing = set(self.candidates)
        lb = dict(self.lb0)
        last: dict[int, tuple[Any, Any, int, int]] = {}
        dirty = dict.fromkeys(self.candidates, True)
        out = Run(scaled_budget, [])
        rnd = 0
        while True:
            best = -1
            best_rho: Any = None
            for c in sorted(playing, key=lambda c: (lb[c], rank[c])):
                if best >= 0:
                    lc = lb[c]
                    if lc > best_rho or (lc == best_rho and rank[c] > rank[best] and not refuses):
                        break
                if dirty[c]:
                    dirty[c] = False
                    got = self._price(c, st)
                    if got is None:
                        playing.discard(c)
                        if details:
                            out.dropped[c] = (rnd, self._rec[st.sets[rnd], c][1])
                        continue
                    last[c] = got
                    lb[c] = got[0]
                rho = lb[c]
                if best < 0 or rho < best_rho:
                    best, best_rho = c, rho
                elif rho == best_rho:
                    best = self.ties.pick([best, c], "equal price per unit in MES")
            if best < 0:
                return out
            playing.discard(best)
            _, share, rich, poor = last[best]
            purchase = Purchase(best, best_rho)
            if details:
                purchase.payers, purchase.paid_all = rich + poor, poor
            out.purchases.append(purchase)
            self._buy(st, best, share)
            for c in self._near[best]:
                dirty[c] = True
            rnd += 1

    def search(self, scaled_budget: int) -> Run:
        """The same purchases as ``run``, using the lower bounds earlier runs left; no
        trace details. With the ``refuse`` tie-break, ``run`` itself."""
        if self.ties.refuses:
            return self.run(scaled_budget)
        st = _State(scaled_budget, self.n_projects)
        rank = self.rank
        lb = dict(self.lb0)
        share: dict[int, Any] = {}
        exact = dict.fromkeys(self.candidates, False)
        playing = set(self.candidates)
        checked = dict.fromkeys(self.candidates, 0)  # records consulted from this round
        heap = [(lb[c], rank[c], c) for c in self.candidates]
        heapq.heapify(heap)
        out = Run(scaled_budget, [])
        while True:
            best = -1
            while heap:
                lc, _, c = heap[0]
                if c not in playing or lc != lb[c]:
                    heapq.heappop(heap)  # stale: bought, dropped or bound raised since
                    continue
                if exact[c]:
                    best = c  # its price is exact and every other bound is above it
                    break
                heapq.heappop(heap)
                rounds = len(st.order)
                if checked[c] <= rounds:
                    bound, gone = self._bound(c, st, checked[c])
                    checked[c] = rounds + 1
                    if gone:
                        playing.discard(c)
                        continue
                    if bound is not None and bound > lc:
                        lb[c] = bound
                        heapq.heappush(heap, (bound, rank[c], c))
                        continue
                got = self._price(c, st)
                if got is None:
                    playing.discard(c)
                    continue
                rho, share[c] = got[0], got[1]
                lb[c] = rho
                exact[c] = True
                heapq.heappush(heap, (rho, rank[c], c))
            if best < 0:
                return out
            heapq.heappop(heap)
            playing.discard(best)
            out.purchases.append(Purchase(best, lb[best]))
            self._buy(st, best, share[best])
            for c in self._near[best]:
                exact[c] = False

    def _buy(self, st: _State, w: int, share: Any) -> None:
        """Record the purchase of ``w`` at ``share``."""
        st.pay[w] = share
        num, den = int(share.numerator), int(share.denominator)
        d = lcm(st.d, den)
        if d != st.d:
            f = d // st.d
            pint = st.pint
            for i in st.order:
                pint[i] *= f
            st.d = d
            st.ed = st.e * d
        st.pint[w] = num * (d // den)
        st.pfix[w] = ((num << (_SHIFT + 1)) + den) // (den << 1)  # round(share · 2**32)
        st.order.append(w)
        st.sets.append(st.sets[-1] | (1 << w))
        self._ever |= 1 << w

    def _fill(self, st: _State, cl: _Classes, vals: list[Any]) -> None:
        """Compute the fixed-point budgets of the classes this run meets for the first
        time (``None`` in ``vals``), and remember them."""
        fb, efix, keys, bits = st.fb, st.e << _SHIFT, cl.keys, cl.bits
        get = st.pfix.__getitem__
        missing = [i for i, a in enumerate(vals) if a is None]
        new = [efix - sum(map(get, bits[i])) for i in missing]
        slack = self._slack
        for j, a in enumerate(new):
            if -slack <= a <= slack and st.exact(bits[missing[j]]) <= 0:
                new[j] = -(1 << 400)  # too close to zero to tell, and exactly nothing left
        for i, a in zip(missing, new, strict=True):
            vals[i] = a
        fb.update(zip([keys[i] for i in missing], new, strict=True))


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
