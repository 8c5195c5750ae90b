"""The Method of Equal Shares for any utilities: one run at a given per-voter budget.

The rule is Peters, Pierczyński and Skowron's ("Proportional Participatory Budgeting
with Additive Utilities", NeurIPS 2021; equalshares.net). This engine serves every
ballot kind (points give different utilities for one project); ``mes_approval`` is the
faster engine for one utility per project, and must compute exactly what this one does.

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
from fractions import Fraction
from typing import Any

import msgspec

from tally.mes_run import Purchase, Run
from tally.profile import Profile
from tally.tiebreak import Ties

__all__ = ["MesEngine", "Transition"]


class Transition(msgspec.Struct):
    """What buying one project after a given set of purchases does to the bookkeeping;
    it depends only on that set and the project, never on the budgets, so every run
    that reaches the same set and buys the same project reuses it. ``remap`` lists
    ``(class, utility index, new class)``; ``moves`` lists, per project still in play,
    the histogram moves ``(old key, new key, voters)``."""

    next_set: int
    remap: list[tuple[int, int, int]]
    moves: dict[int, list[tuple[int, int, int]]]
    size: int


class MesEngine:
    """A profile prepared for repeated runs of MES at different per-voter budgets.

    Voter types (distinct ballots restricted to the candidates) are numbered ``t``:
    ``type_voters[t]`` voters cast it, ``type_projects[t]`` are its candidates,
    ``type_masks[t]`` the same as a bit mask, and ``type_utility_indices[t]`` pairs
    ``(project, j)``: the voters' utility for that project is ``utilities[project][j]``
    (``utilities_per_project``: the most distinct utilities any project has; 1 for
    approval ballots). ``supporters[c]`` lists the types supporting ``c``, and
    ``supporter_utility_index[c]`` their ``j``. ``scaled_cost[c]`` is the cost times
    ``n_voters``; ``total_utility[c]`` the utility of all its supporters;
    ``initial_histogram[c]`` its supporters by utility index before any purchase.

    Across runs it keeps: budget classes interned to ids (``_class_ids``); sets of
    bought projects interned (``_bought_sets``, ``_bought_set_ids``); the ``Transition``
    of each (set, purchase) (``_transitions``); and each candidate's histogram "class ×
    utility index → voters" after each set (``_histograms``), ``_cache_size`` entries
    in all.
    """

    def __init__(
        self,
        prof: Profile,
        candidates: Sequence[int],
        factor: Sequence[int],
        ties: Ties,
        rationals: Any = Fraction,
    ) -> None:
        """``candidates``: the eligible projects of positive cost. A supporter's utility
        for project ``c`` is the ballot's weight for ``c`` (1 for an approval, the points
        for a cumulative ballot) times ``factor[c]`` (the cost for cost satisfaction,
        1 for cardinality satisfaction)."""
        self.n_voters = prof.n_voters
        self.ties = ties
        self.tie_rank = ties.rank
        self.n_projects = len(prof.ids)
        self._rational = rationals
        eligible = set(candidates)
        self.scaled_cost = [c * self.n_voters for c in prof.costs]
        types: Counter[tuple[tuple[int, int], ...]] = Counter()
        if all(i in eligible for i, v in enumerate(prof.votes) if v):
            # every project on any ballot is a candidate: the profile's types as they are
            types.update(dict(zip(prof.types, prof.mult, strict=True)))
            types.pop((), None)
        else:
            for ballot, m in zip(prof.types, prof.mult, strict=True):
                entries = tuple([(i, w) for i, w in ballot if i in eligible])
                if entries:
                    types[entries] += m
        self.type_voters: list[int] = list(types.values())
        # per candidate its distinct utilities; an entry (c, j) means utilities[c][j]
        self.utilities: dict[int, list[int]] = {c: [] for c in candidates}
        self.type_utility_indices: list[tuple[tuple[int, int], ...]] = []
        self.supporters: dict[int, list[int]] = {c: [] for c in candidates}
        self.supporter_utility_index: dict[int, list[int]] = {c: [] for c in candidates}
        type_voters = self.type_voters
        approval = all(w == 1 for entries in types for _, w in entries)
        if approval:
            # approval ballots: one utility per project, the common case, kept fast
            # (their transitions use bit masks, not type_utility_indices)
            for c in candidates:
                self.utilities[c].append(factor[c])
            for t, entries in enumerate(types):
                for c, _ in entries:
                    self.supporters[c].append(t)
            for c in candidates:
                self.supporter_utility_index[c] = [0] * len(self.supporters[c])
        else:
            utility_index: dict[int, dict[int, int]] = {c: {} for c in candidates}
            for t, entries in enumerate(types):
                utility_indices = []
                for c, w in entries:
                    u = w * factor[c]
                    j = utility_index[c].get(u)
                    if j is None:
                        j = utility_index[c][u] = len(self.utilities[c])
                        self.utilities[c].append(u)
                    utility_indices.append((c, j))
                    self.supporters[c].append(t)
                    self.supporter_utility_index[c].append(j)
                self.type_utility_indices.append(tuple(utility_indices))
        self.utilities_per_project = max((len(v) for v in self.utilities.values()), default=1) or 1
        self.candidates = [c for c in candidates if self.supporters[c]]
        self.type_projects = [tuple([c for c, _ in b]) for b in types]
        self.type_masks = [sum(1 << c for c in b) for b in self.type_projects]
        self.initial_histogram: dict[int, dict[int, int]] = {}
        self.total_utility: dict[int, int] = {}
        for c in self.candidates:
            utilities = self.utilities[c]
            if approval:
                votes = sum([type_voters[t] for t in self.supporters[c]])
                self.initial_histogram[c] = {0: votes}
                self.total_utility[c] = votes * utilities[0]
                continue
            h: dict[int, int] = {}
            total = 0
            for t, j in zip(self.supporters[c], self.supporter_utility_index[c], strict=True):
                h[j] = h.get(j, 0) + type_voters[t]
                total += type_voters[t] * utilities[j]
            self.initial_histogram[c] = h
            self.total_utility[c] = total
        # Budget classes are canonical: a class is the set of (bought project, utility
        # index) its voters supported, interned to an id; the empty set is class 0.
        self._class_ids: dict[tuple[tuple[int, int], ...], int] = {(): 0}
        # Sets of bought projects, interned: id -> frozenset; the empty set is 0.
        self._bought_sets: list[frozenset[int]] = [frozenset()]
        self._bought_set_ids: dict[frozenset[int], int] = {frozenset(): 0}
        self._transitions: dict[tuple[int, int], Transition] = {}
        self._cache_size = 0
        self._initial_histograms = {
            c: (tuple(h), tuple(h.values())) for c, h in self.initial_histogram.items()
        }
        self._histograms: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]] = {
            (0, c): st for c, st in self._initial_histograms.items()
        }

    # -- pricing ---------------------------------------------------------------------

    def _price(
        self, c: int, hist: tuple[tuple[int, ...], tuple[int, ...]], class_budget: dict[int, Any]
    ) -> Any:
        """ρ for ``c`` given its supporters' histogram, or ``None`` if unaffordable.

        ρ solves ``Σ min(budget, ρ·u)·voters = cost``. Supporters whose budget is below
        their share pay all they have; the rest split what is left in proportion to u.
        """
        cost = self.scaled_cost[c]
        per_project = self.utilities_per_project
        utilities = self.utilities[c]
        if per_project == 1:
            u = utilities[0]
            items = [(b, m) for k, m in zip(*hist, strict=True) if (b := class_budget[k])]
            # Everyone shares equally; whoever cannot pay the share pays all they have;
            # repeat with the rest (the share only grows, so this ends). If everybody
            # ends up paying all they have, the project is unaffordable.
            rest, count = self._rational(cost), sum(m for _, m in items)
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
        # (budget, utility, voters) of each class with money left, poorest per utility first
        groups = [
            (b, utilities[k % per_project], m)
            for k, m in zip(*hist, strict=True)
            if (b := class_budget[k // per_project])
        ]
        money = sum(b * m for b, _, m in groups)
        if money < cost:
            return None
        groups.sort(key=lambda x: x[0] / x[1])
        rest = cost
        weight = sum(u * m for _, u, m in groups)
        for b, u, m in groups:
            if rest * u <= b * weight:
                return self._rational(rest) / weight
            rest -= b * m
            weight -= u * m
        raise AssertionError("the money was enough, so some supporter pays the share")

    def money_behind(
        self, c: int, hist: tuple[tuple[int, ...], tuple[int, ...]], class_budget: dict[int, Any]
    ) -> Any:
        """What ``c``'s supporters have left in all."""
        per_project = self.utilities_per_project
        return sum(class_budget[k // per_project] * m for k, m in zip(*hist, strict=True))

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
        transition = self._transitions.get(key)
        if transition is not None:
            return transition
        bought = self._bought_sets[set_id]
        nxt = bought | {w}
        next_set = self._bought_set_ids.get(nxt)
        if next_set is None:
            next_set = self._bought_set_ids[nxt] = len(self._bought_sets)
            self._bought_sets.append(nxt)
        per_project = self.utilities_per_project
        if per_project == 1:
            transition = self._transition_approval(bought, w, next_set)
        else:
            transition = self._transition_general(bought, nxt, w, next_set)
        self._transitions[key] = transition
        self._cache_size += transition.size
        return transition

    def _transition_approval(self, bought: frozenset[int], w: int, next_set: int) -> Transition:
        # One utility per project: a class is the bit mask of bought projects its voters
        # approved, and the mask itself is the class id.
        mask = 0
        for c in bought:
            mask |= 1 << c
        wbit = 1 << w
        done = mask | wbit
        type_masks = self.type_masks
        type_voters = self.type_voters
        remap: dict[int, int] = {}
        moved: dict[int, dict[int, int]] = {}
        for t in self.supporters[w]:
            old = type_masks[t] & mask
            if old not in remap:
                remap[old] = old | wbit
            m = type_voters[t]
            for c in self.type_projects[t]:
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
        per_project = self.utilities_per_project
        ids = self._class_ids
        pairs: dict[tuple[tuple[tuple[int, int], ...], int], tuple[int, int]] = {}
        remap: list[tuple[int, int, int]] = []
        moved: dict[tuple[int, int, int], int] = {}
        type_voters = self.type_voters
        for t, j in zip(self.supporters[w], self.supporter_utility_index[w], strict=True):
            ballot = self.type_utility_indices[t]
            old = tuple(e for e in ballot if e[0] in bought)
            pair = pairs.get((old, j))
            if pair is None:
                new = tuple(e for e in ballot if e[0] in nxt)
                oid = ids[old]  # every class is created before its voters buy again
                nid = ids.get(new)
                if nid is None:
                    nid = ids[new] = len(ids)
                pair = pairs[old, j] = (oid, nid)
                remap.append((oid, j, nid))
            oid, nid = pair
            m = type_voters[t]
            for c, jc in ballot:
                if c not in nxt:
                    k3 = (c, oid * per_project + jc, nid * per_project + jc)
                    moved[k3] = moved.get(k3, 0) + m
        moves: dict[int, list[tuple[int, int, int]]] = {}
        for (c, ok, nk), m in moved.items():
            moves.setdefault(c, []).append((ok, nk, m))
        return Transition(next_set, remap, moves, len(moved))

    def _run(self, scaled_budget: int, details: bool) -> Run:
        per_project = self.utilities_per_project
        rank = self.tie_rank
        refuses = self.ties.refuses
        class_budget: dict[int, Any] = {0: scaled_budget}
        bought = [False] * self.n_projects
        in_play = set(self.candidates)
        # ρ never falls during a run: cost over all the utility is a first lower bound
        lower_bound: dict[int, Any] = {
            c: self._rational(self.scaled_cost[c], self.total_utility[c]) for c in self.candidates
        }
        stale = dict.fromkeys(self.candidates, True)
        # A project's histogram depends only on the set bought so far, so it is cached per
        # (set, project) across runs. `known[c]` is the set whose histogram of c this run
        # last used; `pending[c]` the moves since then, applied only when c is priced.
        cache = self._histograms
        if self._cache_size > 20_000_000:  # keep memory bounded on huge searches
            cache.clear()
            self._transitions.clear()
            self._cache_size = 0
            for c in self.candidates:
                cache[0, c] = self._initial_histograms[c]
        known = dict.fromkeys(self.candidates, 0)
        pending: dict[int, list[list[tuple[int, int, int]]]] = {}
        current = 0

        def histogram_of(c: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
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
                self._cache_size += len(h)
            pending.pop(c, None)
            known[c] = current
            return got

        out = Run(scaled_budget, [])
        set_id = 0
        rnd = 0
        best_price: Any = None
        while True:
            best = -1
            best_price = None
            for c in sorted(in_play, key=lambda c: (lower_bound[c], rank[c])):
                if best >= 0:
                    lc = lower_bound[c]
                    if lc > best_price or (
                        lc == best_price and rank[c] > rank[best] and not refuses
                    ):
                        break
                if stale[c]:
                    price = self._price(c, histogram_of(c), class_budget)
                    stale[c] = False
                    if price is None:
                        in_play.discard(c)
                        if details:
                            out.unaffordable[c] = (
                                rnd,
                                self.money_behind(c, histogram_of(c), class_budget),
                            )
                        continue
                    lower_bound[c] = price
                price = lower_bound[c]
                if best < 0 or price < best_price:
                    best, best_price = c, price
                elif price == best_price:
                    best = self.ties.pick([best, c], "equal price per unit in MES")
            if best < 0:
                return out
            # buy `best` at best_price
            in_play.discard(best)
            bought[best] = True
            purchase = Purchase(best, best_price)
            utilities = self.utilities[best]
            shares = [best_price * u for u in utilities]  # per utility index
            if details:
                for key, m in zip(*histogram_of(best), strict=True):
                    b = class_budget[key // per_project]
                    if b:
                        purchase.payers += m
                        if b < shares[key % per_project]:
                            purchase.paid_all += m
            transition = self._transition(set_id, best)
            for k, j, nk in transition.remap:
                b = class_budget[k]
                p = shares[j]
                class_budget[nk] = b - p if b > p else 0
            for c, moves in transition.moves.items():
                if not bought[c]:
                    pending.setdefault(c, []).append(moves)
                    stale[c] = True
            set_id = current = transition.next_set
            out.purchases.append(purchase)
            rnd += 1
