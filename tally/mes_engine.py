"""The core of the Method of Equal Shares: one run at a given per-voter budget.

Exactness and speed come from three choices:

- Money is scaled by the number of voters ``n``: a voter's initial budget ``budget / n``
  becomes the integer ``budget`` (``+ k·unit·n`` after ``k`` add1 steps) and a cost ``c``
  becomes ``c·n``. Later budgets are exact rationals (``Fraction``, or gmpy2's ``mpq``).
- Identical ballots are one voter type, and voter types with the same remaining budget
  share a budget class. Each project keeps a histogram "class → supporters" that is
  updated only for the voters who pay, so finding a project's price ``ρ`` (the price per
  unit of satisfaction that makes ``Σ min(budget, ρ·u) = cost``) sorts a few classes, not
  thousands of voters.
- A project's ``ρ`` never falls during a run (budgets only shrink), so each round only
  re-prices projects whose supporters paid and that could still beat the best so far.

``verify`` proves that a whole range of per-voter budgets gives the same result (see its
docstring); the add1 completion uses it to skip budgets in bulk.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tally._num import Q
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["MesEngine", "Purchase", "Round", "Run"]


@dataclass(slots=True)
class Purchase:
    """One round: the project bought, its price per unit of satisfaction (scaled by n),
    how many voters paid and how many of them paid all they had left."""

    project: int
    rho: Any
    payers: int = 0
    paid_all: int = 0


@dataclass(slots=True)
class Round:
    """What one purchase did to the bookkeeping, so a later run can replay it: the
    winner, each paying class's new class (-1: paid all it had), the histogram moves
    ``(project, old key, new key or -1, voters)`` and the voters' classes before it."""

    winner: int
    remap: list[tuple[int, int, int]]
    delta: list[tuple[int, int, int, int]]
    cls_before: list[int]


@dataclass(slots=True)
class Run:
    scaled_budget: int
    purchases: list[Purchase]
    # project index -> (round after which it was found unaffordable, money behind it, scaled)
    dropped: dict[int, tuple[int, Any]] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    final_cls: list[int] = field(default_factory=list)

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
        for ballot, m in zip(prof.types, prof.mult, strict=True):
            entries = tuple((i, w) for i, w in ballot if i in cset)
            if entries:
                agg[entries] += m
        self.mult: list[int] = list(agg.values())
        # per-candidate distinct utilities; an entry (c, j) means utility uvals[c][j]
        self.uvals: dict[int, list[int]] = {c: [] for c in candidates}
        uidx: dict[int, dict[int, int]] = {c: {} for c in candidates}
        self.ballots: list[tuple[int, ...]] = []
        self.ballots_j: list[tuple[tuple[int, int], ...]] = []
        self.supp: dict[int, list[int]] = {c: [] for c in candidates}
        self.supp_j: dict[int, list[int]] = {c: [] for c in candidates}
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
            self.ballots.append(tuple(c for c, _ in bal_j))
            self.ballots_j.append(tuple(bal_j))
        self.um = max((len(v) for v in self.uvals.values()), default=1) or 1
        self.candidates = [c for c in candidates if self.supp[c]]
        self.init_hist: dict[int, dict[int, int]] = {}
        self.total_u: dict[int, int] = {}
        for c in self.candidates:
            h: dict[int, int] = {}
            tu = 0
            for t, j in zip(self.supp[c], self.supp_j[c], strict=True):
                h[j] = h.get(j, 0) + self.mult[t]
                tu += self.mult[t] * self.uvals[c][j]
            self.init_hist[c] = h
            self.total_u[c] = tu

    # -- pricing ---------------------------------------------------------------------

    def _price(self, c: int, hist: dict[int, int], cb: list[Any]) -> Any:
        """ρ for ``c`` given its supporters' histogram, or ``None`` if unaffordable.

        ρ solves ``Σ min(budget, ρ·u)·voters = cost``. Supporters whose budget is below
        their share pay all they have; the rest split what is left in proportion to u.
        """
        cost = self.scost[c]
        um = self.um
        uv = self.uvals[c]
        if um == 1:
            u = uv[0]
            items = [(b, m) for k, m in hist.items() if (b := cb[k])]
            money = sum(b * m for b, m in items)
            if money < cost:
                return None
            # Start with everyone sharing equally; whoever cannot pay the share pays all
            # they have; repeat with the rest (the share only grows, so this ends).
            rest, count = cost, sum(m for _, m in items)
            while True:
                rich = []
                paid = 0
                gone = 0
                for b, m in items:
                    if b * count < rest:
                        paid += b * m
                        gone += m
                    else:
                        rich.append((b, m))
                if not gone:
                    return Q(rest) / (count * u)
                rest -= paid
                count -= gone
                items = rich
        gen = [(b, uv[k % um], m) for k, m in hist.items() if (b := cb[k // um])]
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

    def money_behind(self, c: int, hist: dict[int, int], cb: list[Any]) -> Any:
        um = self.um
        return sum(cb[k // um] * m for k, m in hist.items())

    # -- one run ---------------------------------------------------------------------

    def run(self, scaled_budget: int, *, details: bool = False, base: Run | None = None) -> Run:
        """One run of MES with per-voter budget ``scaled_budget`` (money scaled by n).

        With ``base`` (a previous run of this engine), rounds that buy the same project
        with the same split of payers (the same budget classes paying in part or in
        full) reuse ``base``'s recorded bookkeeping instead of walking the voters: the
        result is identical, only faster. ``details`` fills the counts the trace shows.
        """
        res = self._run(scaled_budget, None, details, base)
        assert isinstance(res, Run)
        return res

    def verify(self, scaled_budget: int, ref: Run) -> Run | None:
        """The run at ``scaled_budget`` (larger than ``ref``'s) if every per-voter budget
        between the two provably gives exactly ``ref``'s purchases; else ``None``.

        Why this is sound: with the same purchases so far, a larger initial budget leaves
        every voter at least as much money in every round (a project's price per unit can
        only fall when its supporters have more, and ``max(0, b - ρ·u)`` grows with ``b``
        and falls with ``ρ``). So over the range, each project's ρ lies between its value
        at the top (lowest) and at the bottom (highest), and affordability only grows. If
        at the top of the range every rival's ρ is still worse than the winner's ρ at the
        bottom (ties as the tie-break orders them), and at the top no project is
        affordable after the last purchase, every budget in between buys the same
        projects in the same order.
        """
        res = self._run(scaled_budget, ref, False, ref)
        return res if isinstance(res, Run) else None

    def _run(
        self, scaled_budget: int, ref: Run | None, details: bool, base: Run | None
    ) -> Run | bool:
        um = self.um
        uniform = um == 1
        rank = self.rank
        refuses = self.ties.refuses
        cb: list[Any] = [scaled_budget]
        cls: list[int] | None = [0] * len(self.mult) if base is None else None
        mult = self.mult
        hist = {c: dict(h) for c, h in self.init_hist.items()}
        inplay = [False] * self.n_projects
        bought = [False] * self.n_projects
        for c in self.candidates:
            inplay[c] = True
        playing = set(self.candidates)
        lb: dict[int, Any] = {c: Q(self.scost[c], self.total_u[c]) for c in self.candidates}
        dirty = dict.fromkeys(self.candidates, True)
        out = Run(scaled_budget, [])
        replay = base.rounds if base is not None else []
        rnd = 0
        best_rho: Any = None
        while True:
            if ref is not None:
                if rnd == len(ref.purchases):
                    # no project may be affordable at the top of the range
                    for c in playing:
                        if not dirty[c] or self._price(c, hist[c], cb) is not None:
                            return False
                    out.final_cls = cls if cls is not None else base.final_cls  # type: ignore[union-attr]
                    return out
                w = ref.purchases[rnd].project
                thr = ref.purchases[rnd].rho
                if not inplay[w]:
                    return False
                for c in sorted(playing, key=lambda c: (lb[c], rank[c])):
                    if c == w:
                        continue
                    lc = lb[c]
                    if lc > thr or (lc == thr and rank[c] > rank[w] and not refuses):
                        break
                    if dirty[c]:
                        rho = self._price(c, hist[c], cb)
                        dirty[c] = False
                        if rho is None:
                            playing.discard(c)
                            inplay[c] = False
                            continue
                        lb[c] = rho
                        if rho > thr or (rho == thr and rank[c] > rank[w] and not refuses):
                            continue
                    return False
                if dirty[w]:
                    rho_w = self._price(w, hist[w], cb)
                    if rho_w is None:  # pragma: no cover - excluded by monotonicity
                        return False
                    lb[w] = rho_w
                    dirty[w] = False
                best, best_rho = w, lb[w]
            else:
                best = -1
                best_rho = None
                for c in sorted(playing, key=lambda c: (lb[c], rank[c])):
                    if best >= 0:
                        lc = lb[c]
                        if lc > best_rho or (
                            lc == best_rho and rank[c] > rank[best] and not refuses
                        ):
                            break
                    if dirty[c]:
                        rho = self._price(c, hist[c], cb)
                        dirty[c] = False
                        if rho is None:
                            playing.discard(c)
                            inplay[c] = False
                            if details:
                                out.dropped[c] = (rnd, self.money_behind(c, hist[c], cb))
                            continue
                        lb[c] = rho
                    rho = lb[c]
                    if best < 0 or rho < best_rho:
                        best, best_rho = c, rho
                    elif rho == best_rho:
                        best = self.ties.pick([best, c], "equal price per unit in MES")
                if best < 0:
                    out.final_cls = cls if cls is not None else base.final_cls  # type: ignore[union-attr]
                    return out
            # buy `best` at best_rho
            playing.discard(best)
            inplay[best] = False
            bought[best] = True
            purchase = Purchase(best, best_rho)
            if ref is not None and best_rho > ref.purchases[rnd].rho:  # pragma: no cover
                raise AssertionError("MES monotonicity violated")
            uv = self.uvals[best]
            if cls is None:
                # Replaying `base`. Classes are structural (a class is the set of bought
                # projects its voters supported, with utilities), so the same winner
                # moves the same voters between the same classes; only budgets differ.
                old = replay[rnd] if rnd < len(replay) else None
                if old is not None and old.winner == best and not details:
                    pays = [best_rho * u for u in uv]
                    for k, j, _ in old.remap:
                        b = cb[k]
                        p = pays[j]
                        cb.append(b - p if b > p else 0)
                    for c, okey, nkey, m in old.delta:
                        if not bought[c]:
                            h = hist[c]
                            v = h[okey] - m
                            if v:
                                h[okey] = v
                            else:
                                del h[okey]
                            h[nkey] = h.get(nkey, 0) + m
                            dirty[c] = True
                    out.rounds.append(old)
                    out.purchases.append(purchase)
                    rnd += 1
                    continue
                # a different winner: walk the voters from the recorded classes
                assert base is not None
                cls = list(replay[rnd].cls_before if rnd < len(replay) else base.final_cls)
            record = Round(best, [], [], list(cls))
            remap: dict[int, int] = {}
            moved: dict[tuple[int, int, int], int] = {}
            if uniform:
                pay = best_rho * uv[0]
                for t in self.supp[best]:
                    k = cls[t]
                    nk = remap.get(k)
                    if nk is None:
                        b = cb[k]
                        nk = remap[k] = len(cb)
                        cb.append(b - pay if b > pay else 0)
                        record.remap.append((k, 0, nk))
                    cls[t] = nk
                    m = mult[t]
                    if details and cb[k]:
                        purchase.payers += m
                        if cb[k] < pay:
                            purchase.paid_all += m
                    for c in self.ballots[t]:
                        if not bought[c]:
                            h = hist[c]
                            v = h[k] - m
                            if v:
                                h[k] = v
                            else:
                                del h[k]
                            h[nk] = h.get(nk, 0) + m
                            dirty[c] = True
                            key3 = (c, k, nk)
                            moved[key3] = moved.get(key3, 0) + m
            else:
                for t, j in zip(self.supp[best], self.supp_j[best], strict=True):
                    k = cls[t]
                    nk = remap.get(k * um + j)
                    if nk is None:
                        b = cb[k]
                        pay = best_rho * uv[j]
                        nk = remap[k * um + j] = len(cb)
                        cb.append(b - pay if b > pay else 0)
                        record.remap.append((k, j, nk))
                    cls[t] = nk
                    m = mult[t]
                    if details and cb[k]:
                        purchase.payers += m
                        if cb[k] < best_rho * uv[j]:
                            purchase.paid_all += m
                    for c, jc in self.ballots_j[t]:
                        if not bought[c]:
                            h = hist[c]
                            okey = k * um + jc
                            v = h[okey] - m
                            if v:
                                h[okey] = v
                            else:
                                del h[okey]
                            nkey = nk * um + jc
                            h[nkey] = h.get(nkey, 0) + m
                            dirty[c] = True
                            key3 = (c, okey, nkey)
                            moved[key3] = moved.get(key3, 0) + m
            # class ids are recreated in creation order on replay (remap is in that order)
            record.delta = [(c, ok, nk, m) for (c, ok, nk), m in moved.items()]
            out.rounds.append(record)
            out.purchases.append(purchase)
            rnd += 1
