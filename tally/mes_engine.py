"""The core of the Method of Equal Shares: one run at a given per-voter budget.

Exactness and speed come from these choices:

- Money is scaled by the number of voters ``n``: a voter's initial budget ``budget / n``
  becomes the integer ``budget`` (``+ k·unit·n`` after ``k`` add1 steps) and a cost ``c``
  becomes ``c·n``. Later budgets are exact rationals (``Fraction``, or gmpy2's ``mpq``).
- Identical ballots are one voter type. Voters who supported the same bought projects
  (with the same utilities) always have the same budget, so they form one budget class;
  a class is named by that set, independent of the budgets. Each project keeps a
  histogram "class → supporters", and finding its price ``ρ`` (the price per unit of
  satisfaction that makes ``Σ min(budget, ρ·u) = cost``) looks at a few hundred classes,
  not tens of thousands of voters.
- What a purchase does to the histograms depends only on the set bought before and the
  project bought, not on the budgets: it is computed once (walking the voters) and
  reused by every later run that buys the same project after the same set. The add1
  completion runs MES hundreds of times at nearby budgets, which mostly buy the same
  projects in the same or a similar order, so most rounds only recompute budgets.
- A project's ``ρ`` never falls during a run (budgets only shrink), so each round only
  re-prices projects whose supporters paid and that could still beat the best so far;
  histogram updates for a project are applied only when it is priced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tally._num import Q
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["MesEngine", "Purchase", "Run", "Transition"]


@dataclass(slots=True)
class Purchase:
    """One round: the project bought, its price per unit of satisfaction (scaled by n),
    how many voters paid and how many of them paid all they had left."""

    project: int
    rho: Any
    payers: int = 0
    paid_all: int = 0


@dataclass(slots=True)
class Transition:
    """What buying one project after a given set of purchases does to the bookkeeping;
    it depends only on that set and the project, never on the budgets, so every run
    that reaches the same set and buys the same project reuses it. ``remap`` lists
    ``(class, utility index, new class)``; ``moves`` lists, per project still in play,
    the histogram moves ``(old key, new key, voters)``."""

    next_set: int
    remap: list[tuple[int, int, int]]
    moves: dict[int, list[tuple[int, int, int]]]
    size: int


@dataclass(slots=True)
class Run:
    scaled_budget: int
    purchases: list[Purchase]
    # project index -> (round after which it was found unaffordable, money behind it, scaled)
    dropped: dict[int, tuple[int, Any]] = field(default_factory=dict)

    @property
    def winners(self) -> list[int]:
        return [p.project for p in self.purchases]


class MesEngine:
    """Preprocessed profile for repeated runs of MES with different per-voter budgets."""

    def __init__(
        self,
        prof: Profile,
        candidates: Sequence[int],
        factor: Sequence[int],
        ties: Ties,
    ) -> None:
        """``candidates``: the eligible projects of positive cost. A supporter's utility
        for project ``c`` is the ballot's weight for ``c`` (1 for an approval, the points
        for a cumulative ballot) times ``factor[c]`` (the cost for cost satisfaction,
        1 for cardinality satisfaction)."""
        self.n = prof.n_voters
        self.ties = ties
        self.rank = ties.rank
        self.n_projects = len(prof.ids)
        cset = set(candidates)
        self.costs = prof.costs
        self.scost = [c * self.n for c in prof.costs]
        agg: Counter[tuple[tuple[int, int], ...]] = Counter()
        if all(i in cset for i, v in enumerate(prof.votes) if v):
            # every project on any ballot is a candidate: the profile's types as they are
            agg.update(dict(zip(prof.types, prof.mult, strict=True)))
            agg.pop((), None)
        else:
            for ballot, m in zip(prof.types, prof.mult, strict=True):
                entries = tuple([(i, w) for i, w in ballot if i in cset])
                if entries:
                    agg[entries] += m
        self.mult: list[int] = list(agg.values())
        # per-candidate distinct utilities; an entry (c, j) means utility uvals[c][j]
        self.uvals: dict[int, list[int]] = {c: [] for c in candidates}
        self.ballots_j: list[tuple[tuple[int, int], ...]] = []
        self.supp: dict[int, list[int]] = {c: [] for c in candidates}
        self.supp_j: dict[int, list[int]] = {c: [] for c in candidates}
        mult = self.mult
        approval = all(w == 1 for entries in agg for _, w in entries)
        if approval:
            # approval ballots: one utility per project, the common case, kept fast
            # (their transitions use bit masks, not ballots_j)
            for c in candidates:
                self.uvals[c].append(factor[c])
            for t, entries in enumerate(agg):
                for c, _ in entries:
                    self.supp[c].append(t)
            for c in candidates:
                self.supp_j[c] = [0] * len(self.supp[c])
        else:
            uidx: dict[int, dict[int, int]] = {c: {} for c in candidates}
            for t, entries in enumerate(agg):
                bal_j = []
                for c, w in entries:
                    u = w * factor[c]
                    j = uidx[c].get(u)
                    if j is None:
                        j = uidx[c][u] = len(self.uvals[c])
                        self.uvals[c].append(u)
                    bal_j.append((c, j))
                    self.supp[c].append(t)
                    self.supp_j[c].append(j)
                self.ballots_j.append(tuple(bal_j))
        self.um = max((len(v) for v in self.uvals.values()), default=1) or 1
        self.candidates = [c for c in candidates if self.supp[c]]
        self.ballot_ids = [tuple([c for c, _ in b]) for b in agg]
        self.masks = [sum(1 << c for c in b) for b in self.ballot_ids]
        self.init_hist: dict[int, dict[int, int]] = {}
        self.total_u: dict[int, int] = {}
        for c in self.candidates:
            uv = self.uvals[c]
            if approval:
                votes = sum([mult[t] for t in self.supp[c]])
                self.init_hist[c] = {0: votes}
                self.total_u[c] = votes * uv[0]
                continue
            h: dict[int, int] = {}
            tu = 0
            for t, j in zip(self.supp[c], self.supp_j[c], strict=True):
                h[j] = h.get(j, 0) + mult[t]
                tu += mult[t] * uv[j]
            self.init_hist[c] = h
            self.total_u[c] = tu
        # Budget classes are canonical: a class is the set of (bought project, utility
        # index) its voters supported, interned to an id; the empty set is class 0.
        self._class_id: dict[tuple[tuple[int, int], ...], int] = {(): 0}
        # Sets of bought projects, interned: id -> frozenset; the empty set is 0.
        self._sets: list[frozenset[int]] = [frozenset()]
        self._set_id: dict[frozenset[int], int] = {frozenset(): 0}
        self._trans: dict[tuple[int, int], Transition] = {}
        self._cached = 0
        self._init_struct = {c: (tuple(h), tuple(h.values())) for c, h in self.init_hist.items()}
        self._hist_cache: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]] = {
            (0, c): st for c, st in self._init_struct.items()
        }

    # -- pricing ---------------------------------------------------------------------

    def _price(
        self, c: int, hist: tuple[tuple[int, ...], tuple[int, ...]], cb: dict[int, Any]
    ) -> Any:
        """ρ for ``c`` given its supporters' histogram, or ``None`` if unaffordable.

        ρ solves ``Σ min(budget, ρ·u)·voters = cost``. Supporters whose budget is below
        their share pay all they have; the rest split what is left in proportion to u.
        """
        cost = self.scost[c]
        um = self.um
        uv = self.uvals[c]
        if um == 1:
            u = uv[0]
            items = [(b, m) for k, m in zip(*hist, strict=True) if (b := cb[k])]
            # Everyone shares equally; whoever cannot pay the share pays all they have;
            # repeat with the rest (the share only grows, so this ends). If everybody
            # ends up paying all they have, the project is unaffordable.
            rest, count = Q(cost), sum(m for _, m in items)
            while count:
                share = rest / count
                rich = [(b, m) for b, m in items if b >= share]
                if len(rich) == len(items):
                    return share / u
                gone = 0
                for b, m in items:
                    if b < share:
                        rest -= b * m
                        gone += m
                count -= gone
                items = rich
            return None
        gen = [(b, uv[k % um], m) for k, m in zip(*hist, strict=True) if (b := cb[k // um])]
        money = sum(b * m for b, _, m in gen)
        if money < cost:
            return None
        gen.sort(key=lambda x: x[0] / x[1])
        rest = cost
        weight = sum(u * m for _, u, m in gen)
        for b, u, m in gen:
            if rest * u <= b * weight:
                return Q(rest) / weight
            rest -= b * m
            weight -= u * m
        return None  # pragma: no cover

    def money_behind(
        self, c: int, hist: tuple[tuple[int, ...], tuple[int, ...]], cb: dict[int, Any]
    ) -> Any:
        um = self.um
        return sum(cb[k // um] * m for k, m in zip(*hist, strict=True))

    # -- one run ---------------------------------------------------------------------

    def run(self, scaled_budget: int, *, details: bool = False) -> Run:
        """One run of MES with per-voter budget ``scaled_budget`` (money scaled by n);
        ``details`` fills the counts the trace shows."""
        return self._run(scaled_budget, details)

    def search(self, scaled_budget: int) -> Run:
        """The purchases of one run, for the add1 completion's intermediate runs."""
        return self._run(scaled_budget, False)

    def _transition(self, set_id: int, w: int) -> Transition:
        """Walk the supporters of ``w`` once for this set of purchases (then cached)."""
        key = (set_id, w)
        tr = self._trans.get(key)
        if tr is not None:
            return tr
        bought = self._sets[set_id]
        nxt = bought | {w}
        next_set = self._set_id.get(nxt)
        if next_set is None:
            next_set = self._set_id[nxt] = len(self._sets)
            self._sets.append(nxt)
        um = self.um
        if um == 1:
            tr = self._transition_approval(bought, w, next_set)
        else:
            tr = self._transition_general(bought, nxt, w, next_set)
        self._trans[key] = tr
        self._cached += tr.size
        return tr

    def _transition_approval(self, bought: frozenset[int], w: int, next_set: int) -> Transition:
        # One utility per project: a class is the bit mask of bought projects its voters
        # approved, and the mask itself is the class id.
        mask = 0
        for c in bought:
            mask |= 1 << c
        wbit = 1 << w
        done = mask | wbit
        masks = self.masks
        mult = self.mult
        remap: dict[int, int] = {}
        moved: dict[int, dict[int, int]] = {}
        for t in self.supp[w]:
            old = masks[t] & mask
            if old not in remap:
                remap[old] = old | wbit
            m = mult[t]
            for c in self.ballot_ids[t]:
                if not (done >> c) & 1:
                    mc = moved.get(c)
                    if mc is None:
                        mc = moved[c] = {}
                    mc[old] = mc.get(old, 0) + m
        moves = {c: [(o, o | wbit, m) for o, m in mc.items()] for c, mc in moved.items()}
        size = sum(len(v) for v in moves.values())
        return Transition(next_set, [(o, 0, nw) for o, nw in remap.items()], moves, size)

    def _transition_general(
        self, bought: frozenset[int], nxt: frozenset[int], w: int, next_set: int
    ) -> Transition:
        um = self.um
        ids = self._class_id
        pairs: dict[tuple[tuple[tuple[int, int], ...], int], tuple[int, int]] = {}
        remap: list[tuple[int, int, int]] = []
        moved: dict[tuple[int, int, int], int] = {}
        mult = self.mult
        for t, j in zip(self.supp[w], self.supp_j[w], strict=True):
            ballot = self.ballots_j[t]
            old = tuple(e for e in ballot if e[0] in bought)
            pair = pairs.get((old, j))
            if pair is None:
                new = tuple(e for e in ballot if e[0] in nxt)
                oid = ids.get(old)
                if oid is None:  # pragma: no cover - every class is created before use
                    oid = ids[old] = len(ids)
                nid = ids.get(new)
                if nid is None:
                    nid = ids[new] = len(ids)
                pair = pairs[old, j] = (oid, nid)
                remap.append((oid, j, nid))
            oid, nid = pair
            m = mult[t]
            for c, jc in ballot:
                if c not in nxt:
                    k3 = (c, oid * um + jc, nid * um + jc)
                    moved[k3] = moved.get(k3, 0) + m
        moves: dict[int, list[tuple[int, int, int]]] = {}
        for (c, ok, nk), m in moved.items():
            moves.setdefault(c, []).append((ok, nk, m))
        return Transition(next_set, remap, moves, len(moved))

    def _run(self, scaled_budget: int, details: bool) -> Run:
        um = self.um
        rank = self.rank
        refuses = self.ties.refuses
        cb: dict[int, Any] = {0: scaled_budget}
        inplay = [False] * self.n_projects
        bought = [False] * self.n_projects
        for c in self.candidates:
            inplay[c] = True
        playing = set(self.candidates)
        lb: dict[int, Any] = {c: Q(self.scost[c], self.total_u[c]) for c in self.candidates}
        dirty = dict.fromkeys(self.candidates, True)
        # A project's histogram depends only on the set bought so far, so it is cached per
        # (set, project) across runs. `known[c]` is the set whose histogram of c this run
        # last used; `pending[c]` the moves since then, applied only when c is priced.
        cache = self._hist_cache
        if self._cached > 20_000_000:  # keep memory bounded on huge searches
            cache.clear()
            self._trans.clear()
            self._cached = 0
            for c in self.candidates:
                cache[0, c] = self._init_struct[c]
        known = dict.fromkeys(self.candidates, 0)
        pending: dict[int, list[list[tuple[int, int, int]]]] = {}
        current = 0

        def struct(c: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
            key = (current, c)
            got = cache.get(key)
            if got is None:
                keys, counts = cache[known[c], c]
                h = dict(zip(keys, counts, strict=True))
                for moves in pending.get(c, ()):
                    for okey, nkey, m in moves:
                        v = h[okey] - m
                        if v:
                            h[okey] = v
                        else:
                            del h[okey]
                        h[nkey] = h.get(nkey, 0) + m
                got = cache[key] = (tuple(h), tuple(h.values()))
                self._cached += len(h)
            pending.pop(c, None)
            known[c] = current
            return got

        def price(c: int) -> Any:
            return self._price(c, struct(c), cb)

        out = Run(scaled_budget, [])
        set_id = 0
        rnd = 0
        best_rho: Any = None
        while True:
            best = -1
            best_rho = None
            for c in sorted(playing, key=lambda c: (lb[c], rank[c])):
                if best >= 0:
                    lc = lb[c]
                    if lc > best_rho or (lc == best_rho and rank[c] > rank[best] and not refuses):
                        break
                if dirty[c]:
                    rho = price(c)
                    dirty[c] = False
                    if rho is None:
                        playing.discard(c)
                        inplay[c] = False
                        if details:
                            out.dropped[c] = (rnd, self.money_behind(c, struct(c), cb))
                        continue
                    lb[c] = rho
                rho = lb[c]
                if best < 0 or rho < best_rho:
                    best, best_rho = c, rho
                elif rho == best_rho:
                    best = self.ties.pick([best, c], "equal price per unit in MES")
            if best < 0:
                return out
            # buy `best` at best_rho
            playing.discard(best)
            inplay[best] = False
            bought[best] = True
            purchase = Purchase(best, best_rho)
            uv = self.uvals[best]
            pays = [best_rho * u for u in uv]
            if details:
                for key, m in zip(*struct(best), strict=True):
                    b = cb[key // um]
                    if b:
                        purchase.payers += m
                        if b < pays[key % um]:
                            purchase.paid_all += m
            tr = self._transition(set_id, best)
            for k, j, nk in tr.remap:
                b = cb[k]
                p = pays[j]
                cb[nk] = b - p if b > p else 0
            for c, moves in tr.moves.items():
                if not bought[c]:
                    pending.setdefault(c, []).append(moves)
                    dirty[c] = True
            set_id = current = tr.next_set
            out.purchases.append(purchase)
            rnd += 1
