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
  class's budget times 2**32 is taken as ``e·2**32 − Σ round(p_i·2**32)``, off by at
  most half a unit per project (``_slack`` units in all). A class clearly on one side of
  the share is on that side; the few within the slack of it are computed exactly. The
  share found is exact, and so is every decision made with it.
- **Each price starts from the last price after the same set of purchases** (in any
  run): the classes far below or above it are taken as poor or rich in one pass, those
  in a band around it are decided one by one, and the band is widened if the share found
  leaves it. The classes far from both boundaries (nothing left, surely poor, surely
  rich) are set aside, counted but not looked at, as long as no budget can have moved
  that far since they were last looked at (a bound from the share differences between
  the two runs, ``_State.eta_to``).
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
- The supporters of each project are grouped by which ever-bought projects they
  supported ("fine" classes); the classes after a set of purchases are folds of these.

``run`` keeps ``MesEngine.run``'s pricing order (so the same rounds in which projects are
found unaffordable, which the trace reports); ``search`` finds the same purchases with the
bounds, for add1's intermediate runs. With the ``refuse`` tie-break the outcome depends on
which tie is met first, so ``search`` is ``run`` then.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from functools import partial, reduce
from math import lcm
from operator import itemgetter, mul, or_
from typing import Any

from tally._num import Q
from tally.mes_engine import Purchase, Run
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["ApprovalMes", "one_utility"]

_SHIFT = 32  # fixed-point budgets are in units of 2**-32 (of money scaled by n)
# Classes further than e/2**_MARGIN from both boundaries are set aside until budgets may
# have moved that much (a few add1 steps).
_MARGIN = 3


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


class _Classes:
    """The classes of a project's supporters after a set of purchases: bit masks of the
    bought projects each supported, the projects themselves, how many voters; and, from
    the last pricing after this set (in any run), where the next one starts: fixed-point
    share and band half-width, the classes found poor with money left and ``cnt`` for
    them, and the classes set aside."""

    __slots__ = (
        "band",
        "bits",
        "cnt",
        "deep",
        "gref",
        "keys",
        "look",
        "look_keys",
        "look_m",
        "m",
        "poor",
        "poor_m",
        "pthr",
        "rthr",
        "sure_poor",
        "sure_poor_m",
        "t",
        "zthr",
    )

    def __init__(self, keys: list[int], m: list[int], bits: list[tuple[int, ...]]) -> None:
        self.keys = keys
        self.m = m
        self.bits = bits
        self.t: int | None = None
        # Classes far from both boundaries when last looked at (in run gref): those
        # below zthr had nothing left, those at or above rthr (deep voters) were rich;
        # only the others (look) need looking at while no budget can have moved by
        # more than the margin between.
        self.gref: _State | None = None
        self.zthr = 0
        self.rthr = 0
        self.deep = 0
        self.look: list[int] = []
        self.look_keys: list[int] = []
        self.look_m = 0
        self.pthr = 0  # classes in [zero + margin, pthr) were poor with money left
        self.sure_poor: list[int] = []
        self.sure_poor_m = 0
        self.band = 0
        self.poor: set[int] = set()
        self.cnt: Counter[int] = Counter()
        self.poor_m = 0


class _State:
    """One run: per-voter budget ``e``; shares paid, exact (``pay``), as integers over a
    common denominator ``d`` (``pint``) and in fixed point (``pfix``); the fixed-point
    budgets of the classes looked at so far (``fb``); the purchases; and, against other
    runs, the differences of their shares (``devs``, ``eta``)."""

    __slots__ = (
        "d",
        "devs",
        "e",
        "ed",
        "efix",
        "eta",
        "fb",
        "keep",
        "order",
        "pay",
        "pfix",
        "pint",
        "sets",
    )

    def __init__(self, e: int, n_projects: int, keep: int) -> None:
        self.e = e
        self.keep = keep  # how many of the largest share differences to another run to keep
        self.d = 1
        self.ed = e
        self.pay: dict[int, Any] = {}
        self.pint = [0] * n_projects
        self.pfix = [0] * n_projects
        self.efix = e << _SHIFT
        self.fb: dict[int, int] = {0: self.efix}
        self.order: list[int] = []
        self.sets = [0]  # sets[j]: bit mask of the first j purchases
        self.eta: dict[_State, list[tuple[int, ...]]] = {}
        self.devs: dict[_State, dict[int, int]] = {}

    def exact(self, bits: tuple[int, ...]) -> int:
        """The budget of the class that supported ``bits`` times ``d``, before clipping at 0."""
        pint = self.pint
        return self.ed - sum([pint[i] for i in bits])

    def eta_to(self, ref: _State, rounds: int, width: int) -> int:
        """A bound, in units of 2**-32, on ``Σ_{i∈K} |p_i − p_i(ref)|`` for a set ``K`` of
        at most ``width`` of this run's first ``rounds`` purchases (all of which ``ref``
        made too): the sum of the ``width`` largest terms. Each term is taken from the
        fixed-point shares, plus one unit for their rounding (half a unit each)."""
        if ref is self:
            return 0
        tops = self.eta.get(ref)
        if tops is None:
            tops = self.eta[ref] = [()]
            self.devs[ref] = {}
        keep = self.keep
        if len(tops) <= rounds:
            order, mine, theirs = self.order, self.pfix, ref.pfix
            devs = self.devs[ref]
            top = tops[-1]
            for w in order[len(tops) - 1 : rounds]:
                dev = devs[w] = abs(mine[w] - theirs[w]) + 1
                if len(top) < keep or dev > top[-1]:
                    top = tuple(sorted((*top, dev), reverse=True)[:keep])
                tops.append(top)
        top = tops[rounds]
        if width <= len(top) or len(top) < keep:
            return sum(top[:width])
        return sum(top) + (width - len(top)) * top[-1]


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
        everyone = all(i in cset for i, v in enumerate(prof.votes) if v)
        # Voter types as (bit mask of the candidates supported, voters, the candidates).
        first = itemgetter(0)
        if everyone:  # the profile's types, distinct already
            agg: dict[tuple[int, ...], int] = {
                ids: m
                for ids, m in zip(
                    map(tuple, map(partial(map, first), prof.types)), prof.mult, strict=True
                )
                if ids
            }
        else:
            agg = Counter()
            for ballot, m in zip(prof.types, prof.mult, strict=True):
                ids = tuple([i for i, _ in ballot if i in cset])
                if ids:
                    agg[ids] += m
        bit = [1 << i for i in range(len(prof.ids))]
        supp: dict[int, list[tuple[int, int, tuple[int, ...]]]] = {c: [] for c in candidates}
        add = {c: supp[c].append for c in candidates}
        for ids, m in agg.items():
            entry = (sum(map(bit.__getitem__, ids)), m, ids)
            for c in ids:
                add[c](entry)
        masks, projects = itemgetter(0), itemgetter(2)
        near = {c: reduce(or_, map(masks, supp[c]), 0) for c in candidates}
        width = {c: max(map(len, map(projects, supp[c])), default=1) - 1 for c in candidates}
        self.candidates = [c for c in candidates if supp[c]]
        self.supp = supp
        # width[c]: the most other candidates one supporter of c supported
        self._width = width
        # A class's fixed-point budget is off by at most half a unit per share it paid.
        self._slack = max(width.values(), default=0) // 2 + 2
        self._keep = min(max(max(width.values(), default=1), 1), 8)
        self.votes = {c: sum([t[1] for t in supp[c]]) for c in self.candidates}
        # every supporter gives the same weight: the points over the votes
        self.u = {c: prof.points[c] // prof.votes[c] * factor[c] for c in self.candidates}
        self.uvals = {c: [self.u[c]] for c in self.candidates}  # as MesEngine has them
        self.um = 1
        self.scost = [c * self.n for c in prof.costs]
        self.lb0 = {c: Q(self.scost[c], self.votes[c] * self.u[c]) for c in self.candidates}
        self._near = {c: tuple(_bits(near[c] & ~(1 << c))) for c in self.candidates}
        self._ever = 0  # every project any run has bought, as a bit mask
        # fine[c]: c's supporters by which ever-bought projects they supported (the
        # classes after any set of purchases are folds of these), with the ever-bought
        # mask they are up to date with. In the first run, where a project enters at
        # every round, they are rebuilt from the voter types when needed; afterwards each
        # new project splits the up-to-date ones (_enter), stale ones are rebuilt.
        self._fine: dict[int, tuple[int, dict[int, int]]] = {}
        self._first = True
        self._classes: dict[tuple[int, int], _Classes] = {}
        self._last_t: dict[int, int] = {}  # each project's last fixed-point share
        self._bits_of: dict[int, tuple[int, ...]] = {0: ()}
        # lower bounds lent between runs: (set, project) -> the last pricing there
        self._rec: dict[tuple[int, int], tuple[Any, ...]] = {}

    # -- classes ---------------------------------------------------------------------

    def _classes_of(self, c: int, s: int) -> _Classes:
        """The classes of ``c``'s supporters after the set ``s`` (cached)."""
        got = self._classes.get((s, c))
        if got is not None:
            return got
        fine = self._fine.get(c)
        if fine is None or s & ~fine[0]:
            groups: dict[int, int] = {}
            ever = self._ever
            for mask, m, _ in self.supp[c]:
                k = mask & ever
                groups[k] = groups.get(k, 0) + m
            fine = self._fine[c] = (ever, groups)
        if fine[0] == s:
            h = dict(fine[1])  # nothing to fold (so in the first run)
        else:
            h = {}
            for k, m in fine[1].items():
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
        ms = cl.m
        slack = self._slack
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
        # How far any class's fixed-point budget can be from its value in gref.
        moved = -1
        if cl.gref is not None:
            moved = 0
            if cl.gref is not st:
                moved = abs(st.efix - cl.gref.efix) + st.eta_to(cl.gref, rounds, self._width[c])
        grouped = None
        idx: Sequence[int] = ()
        keys: list[int] = []
        poor0: list[int] = []
        rich0 = 0
        while True:
            low, high = t - band, t + band
            ok = (
                moved >= 0
                and cl.zthr + moved <= zero
                and cl.rthr - moved >= high
                and (not cl.sure_poor or cl.pthr + moved <= low)
            )
            if grouped is not ok:
                grouped = ok
                if ok:
                    idx, keys, rich0, poor0 = cl.look, cl.look_keys, cl.deep, cl.sure_poor
                else:
                    idx, keys, rich0, poor0 = range(len(ms)), cl.keys, 0, []
                vals: list[Any] = list(map(st.fb.get, keys))
                if None in vals:
                    self._fill(st, cl, idx, keys, vals)
            # One pass: surely poor (below the band), in the band, surely rich (above).
            poor: list[int] = list(poor0)
            mid: list[tuple[int, int]] = []
            rich = rich0
            for i, a in zip(idx, vals, strict=True):
                if a >= high:
                    rich += ms[i]
                elif a >= low:
                    if a >= zero:
                        mid.append((a, i))
                elif a >= zero:
                    poor.append(i)
            mid.sort()
            # Which classes in the band pay all they have, on the fixed-point budgets.
            count = rich + sum([ms[i] for _, i in mid])
            rest = cost - self._poor_money(cl, st, poor)
            rfix = (rest << _SHIFT) // d
            j = 0
            for a, i in mid:
                if a * count >= rfix:
                    break
                rfix -= a * ms[i]
                count -= ms[i]
                j += 1
            for _, i in mid[:j]:
                rest -= st.exact(cl.bits[i]) * ms[i]
            self._add_poor(cl, [i for _, i in mid[:j]])
            if not count and rest <= 0:
                # Enough money after all: a class taken as unable to pay the share can
                # (a tie the fixed point cannot tell). Decide every class exactly.
                everyone = poor + [i for _, i in mid]
                rest, count = self._exact_band(cl, st, [], everyone, rich, cost)
                qhi = -(-(rest << _SHIFT) // (d * count))
                break
            if not count:
                # every supporter with money left would pay all of it: not enough
                self._unaffordable(c, st, s, cost - rest)
                return None
            qhi = -(-(rest << _SHIFT) // (d * count))  # ⌈share · 2**32⌉
            qlo = (rest << _SHIFT) // (d * count)  # ⌊share · 2**32⌋
            # A class with a + slack ≤ ⌊share⌋ has less than the share, one with
            # a − slack ≥ ⌈share⌉ at least the share: if every class is on the side it
            # was put on, the partition, hence the share, is the true one.
            if (poor and low - 1 + slack > qlo) or (rich and high - slack < qhi):
                band = band * 4 + abs(qhi - t) * 2 + 4 * slack  # the band was too narrow
                continue
            if (j and mid[j - 1][0] + slack > qlo) or (j < len(mid) and mid[j][0] - slack < qhi):
                # a class in the band too close to the share to tell: decide exactly
                rest, count = self._exact_band(cl, st, poor, [i for _, i in mid], rich, cost)
                qhi = -(-(rest << _SHIFT) // (d * count))
            break
        # Next time start from this share, with a band a little wider than its move.
        cl.band = max(abs(qhi - t) * 2, 8 * slack) if cl.t is not None else 8 * slack
        cl.t = self._last_t[c] = qhi
        if not grouped:
            # Every class was looked at: set aside those far from both boundaries.
            margin = st.efix >> _MARGIN
            zthr = cl.zthr = zero - margin
            rthr = cl.rthr = qhi + cl.band + margin
            plo, phi = zero + margin, qhi - cl.band - margin
            cl.pthr = phi
            sure = [i for i, a in enumerate(vals) if plo <= a < phi]
            look = [i for i, a in enumerate(vals) if zthr <= a < rthr and not plo <= a < phi]
            cl.look, cl.look_keys = look, [cl.keys[i] for i in look]
            cl.sure_poor, cl.sure_poor_m = sure, sum([ms[i] for i in sure])
            cl.deep = sum([m for m, a in zip(ms, vals, strict=True) if a >= rthr])
            cl.look_m = sum([ms[i] for i in look])
            cl.gref = st
            moved = 0
        share = Q(rest, d * count)
        u = self.u[c]
        rho = share / u
        self._record(c, s, st, cl, rho, share, count, moved)
        return rho, share, count, cl.poor_m

    def _record(
        self,
        c: int,
        s: int,
        st: _State,
        cl: _Classes,
        rho: Any,
        money: Any,
        rich: int,
        moved: int,
    ) -> None:
        """Keep what later runs need to bound ``c``'s price after the set ``s`` from this
        pricing: the price (or, if unaffordable, the money), the voters with nothing left
        (those at least ``depth`` below zero apart), the classes (whose poor voters with
        money left, and ``cnt`` for them, are this pricing's until the next pricing after
        the same set, which replaces this record too) and the utility of the rich."""
        votes = self.votes[c]
        zero = votes - rich - cl.poor_m
        deep, depth = 0, -1
        if moved >= 0:
            deep = votes - cl.deep - cl.look_m - cl.sure_poor_m
            depth = -self._slack - cl.zthr - moved
        self._rec[s, c] = (rho, money, zero - deep, deep, depth, cl, rich * self.u[c], st)

    def _poor_money(self, cl: _Classes, st: _State, poor: list[int]) -> int:
        """The money (times ``d``) of the classes ``poor``, all with money left:
        ``e·M − Σ_i p_i·cnt_i``, with ``M`` and ``cnt`` updated from the last pricing after
        the same set; they become ``cl``'s poor classes."""
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
        return st.ed * poor_m - sum([pint[x] * k for x, k in cnt.items() if k])

    def _exact_band(
        self,
        cl: _Classes,
        st: _State,
        poor: list[int],
        mid: list[int],
        rich: int,
        cost: int,
    ) -> tuple[int, int]:
        """The share as ``(rest, count)`` over ``d`` when the classes ``poor`` pay all they
        have, those in ``mid`` all or the share as their exact budgets decide, and
        ``rich`` more voters the share."""
        ms, bits = cl.m, cl.bits
        rest = cost - self._poor_money(cl, st, poor)
        count = rich
        exact = []
        for i in mid:
            b = st.exact(bits[i])
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

    def _unaffordable(self, c: int, st: _State, s: int, money: int) -> None:
        """Record that ``c``'s supporters, with ``money`` (times ``d``) in all, cannot pay
        for it."""
        cl = self._classes[s, c]
        self._record(c, s, st, cl, None, Q(money, st.d), 0, -1)

    def _bound(self, c: int, st: _State, first: int, known: Any) -> tuple[Any, bool]:
        """The best lower bound on ``c``'s ρ from pricings (in any run) after the sets this
        run went through from round ``first`` on, and whether one proves ``c``
        unaffordable (``known``: a lower bound already known, records that cannot beat it
        are skipped).

        A supporter who supported the bought projects ``K`` has a budget within
        ``|Δe| + Σ_{i∈K} |Δp_i|`` of the other run's (``Δ`` between the runs); summed
        over the supporters who could not pay the share there, that is at most
        ``|Δe|·P + Σ_i |Δp_i|·cnt_i`` for those with money left, and ``|Δe|`` plus the
        largest possible ``Σ |Δp_i|`` each for those with nothing left (nothing for those
        too deep below zero to come back). It bounds how much less the rich must pay."""
        best: Any = known
        e = st.e
        rec = self._rec
        width = self._width[c]
        sets = st.sets
        for j in range(len(st.order), first - 1, -1):
            got = rec.get((sets[j], c))
            if got is None:
                continue
            rho, a, zero, deep, depth, cl, w, ref = got
            if ref is st or (rho is not None and rho <= best):
                continue
            cnt = cl.cnt
            de = abs(e - ref.e) << _SHIFT
            top = st.eta_to(ref, j, width)
            if de + top > depth:
                zero += deep
            spread = (
                de * (cl.poor_m + zero)
                + zero * top
                + sum(map(mul, map(st.devs[ref].__getitem__, cnt), cnt.values()))
            )
            if rho is None:
                if a + Q(spread, 1 << _SHIFT) < self.scost[c]:
                    return None, True
                continue
            bound = rho - Q(spread, w << _SHIFT) if spread else rho
            if bound > best:
                best = bound
        return best, False

    # -- runs ------------------------------------------------------------------------

    def run(self, scaled_budget: int, *, details: bool = False) -> Run:
        """One run, pricing projects in the same order as ``MesEngine.run`` (so the same
        trace); ``scaled_budget`` is the per-voter budget times the number of voters."""
        st = _State(scaled_budget, self.n_projects, self._keep)
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
                self._first = False
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
        st = _State(scaled_budget, self.n_projects, self._keep)
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
                    bound, gone = self._bound(c, st, checked[c], lc)
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
                self._first = False
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
        if not self._ever >> w & 1:
            self._enter(w)

    def _enter(self, w: int) -> None:
        """``w`` is bought for the first time in any run: split the fine classes of every
        project its supporters supported by whether they supported ``w``."""
        ever = self._ever
        bit = 1 << w
        self._ever = ever | bit
        if self._first:
            return
        fresh = {c: f for c, (e, f) in self._fine.items() if e == ever}
        for mask, m, ids in self.supp[w]:
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
            self._fine[c] = (ever | bit, f)

    def _fill(
        self, st: _State, cl: _Classes, idx: Sequence[int], keys: list[int], vals: list[Any]
    ) -> None:
        """Compute the fixed-point budgets of the classes this run meets for the first
        time (``None`` in ``vals``; ``idx`` the classes' indices, ``keys`` their keys)."""
        bits = cl.bits
        get = st.pfix.__getitem__
        efix = st.efix
        missing = [j for j, a in enumerate(vals) if a is None]
        new = [efix - sum(map(get, bits[idx[j]])) for j in missing]
        slack = self._slack
        if min(map(abs, new)) <= slack:
            for n, a in enumerate(new):
                if -slack <= a <= slack and st.exact(bits[idx[missing[n]]]) <= 0:
                    # Too close to zero to tell, and exactly nothing left: stored just below
                    # the line, as the (shallow) zero it is; a huge negative value would
                    # pass for a class far below zero, which a richer run could not revive.
                    new[n] = -slack - 1
        for j, a in zip(missing, new, strict=True):
            vals[j] = a
        st.fb.update(zip([keys[j] for j in missing], new, strict=True))


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
