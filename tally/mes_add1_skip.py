"""How far the add1 completion may raise the per-voter budget without changing a run of
the Method of Equal Shares: an exact, conservative bound, so that add1 (docs/protocol.md
§9.5) reaches the run the one-unit-at-a-time loop reaches with far fewer runs.

Money is scaled by the number of voters (``mes_engine``): a run at ``e`` gives every
voter ``e``; a supporter ``i`` of ``c`` with utility ``u_i`` pays ``min(m_i, ρ·u_i)``,
and ``ρ_c`` is the least ``ρ`` with ``f_c(ρ) = Σ min(m_i, ρ·u_i) = C_c`` (``C_c`` the
cost times ``n``), ``∞`` when ``Σ m_i < C_c``.

**The run along a ray.** Take the run at ``e`` (purchases ``w_1 … w_m`` at prices
``ρ_1 … ρ_m``) and look at the run at ``e + t``, ``t ≥ 0``, assuming it makes the same
purchases with the same supporters paying all they have. A voter who paid for the
bought projects ``K`` keeps ``max(0, x)`` with ``x = e + t − Σ_{j∈K} ρ_j·u_j``
(``max(0, max(0, b − y) − z) = max(0, b − y − z)``), so voters who paid for the same
projects with the same utilities form a class, and under that assumption every ``x``
and every ``ρ_r`` is affine in ``t``: ``x = x⁰ + x¹·t``, ``ρ_r = ρ_r⁰ + σ_r·t``. At the
purchase of ``w_r`` the supporters split into the *rich* (``x⁰ ≥ ρ_r⁰·u``, they pay the
share) and the *poor* (``x⁰ < ρ_r⁰·u``: those with ``x⁰ ≥ 0``, *alive*, pay their ``x``;
those with ``x⁰ < 0`` have nothing); so ``ρ_r = (C − Σ_poor alive x)/U_rich``, checked
against the run's own price at ``t = 0`` (``U_rich > 0``: if every supporter paid all
they have, a smaller ρ would give the same sum, against ``ρ_r`` being the least), and
``σ_r = −Σ_poor alive x¹ / U_rich``.

*Slopes.* By induction over the rounds ``σ_r ≤ 0`` and ``x¹ ≥ 1``: ``x¹ = 1 − Σ σ_j·u_j``
over the rounds a voter paid in, ``u_j > 0``; ``σ_r`` is minus a sum of ``x¹·voters
≥ 0`` over ``U_rich > 0``.
So a rich class stays rich (``x − ρ_r·u`` has slope ``x¹ − σ_r·u ≥ 1``); a class put on
the boundary at ``t = 0`` is rich for ``t > 0``, which is why it is counted rich; a class
alive stays alive; a dead class (``x⁰ < 0``: it paid all it had at an earlier purchase,
strictly below the share there) stays dead while it stays poor there.

**The conditions.** The run at ``e + t`` makes exactly the purchases of the run at ``e``
if, for every round ``r`` (by induction over ``r``, each round's money being what the
assumption says once the earlier rounds are as assumed):

1. every alive poor class of ``w_r`` can still not pay the share:
   ``x ≤ ρ_r·u``. The split is then consistent (poor pay ``x ≤ ρ_r u``, rich pay
   ``ρ_r u ≤ x``), so ``f(ρ_r) = C``, and any ``ρ' < ρ_r`` gives
   ``f(ρ') ≤ Σ_poor x + ρ'·U_rich < C``: ``ρ_r`` is the price of ``w_r``;
2. every other project ``c`` not yet bought does not beat ``w_r``: ``ρ_c > ρ_r``, or
   ``ρ_c ≥ ρ_r`` when the tie-break prefers ``w_r``. For any fixed set ``Q`` of ``c``'s
   supporters, ``f_c(ρ) ≤ g(ρ) = Σ_Q m_i + ρ·U_{¬Q}``. Take ``Q`` the dead classes and the
   alive ones with ``x⁰ < ρ_r⁰·u`` (so ``g(ρ_r) = f_c(ρ_r)`` at ``t = 0``); ``g`` at
   ``ρ_r`` is affine in ``t``. If ``g < C_c`` then ``f_c(ρ_r) < C_c`` and, ``f_c``
   being non-decreasing, ``ρ_c > ρ_r`` (this covers a project its supporters cannot pay
   for). If ``g ≤ C_c`` and ``U_{¬Q} > 0`` then for ``ρ' < ρ_r``,
   ``f_c(ρ') ≤ Σ_Q m + ρ'·U_{¬Q} < g ≤ C_c``: ``ρ_c ≥ ρ_r``. (With ``Q`` empty,
   ``g = ρ_r·U_c`` never grows, ``σ_r ≤ 0``: a project with ``ρ_r⁰·U_c < C_c`` needs
   no look at its supporters.) The tie-break is a total order of the projects (not
   ``refuse``), so these pairwise conditions make ``w_r`` the purchase;
3. after the last round no project left is affordable: ``Σ_alive x < C_c``.

Each condition is ``a + b·t < 0`` (or ``≤ 0``) with exact ``a, b``, true at ``t = 0``;
it holds for ``t < −a/b`` when ``b > 0`` and for every ``t`` otherwise. The least of
these bounds, ``T``, is such that every run at ``e + t``, ``0 ≤ t < T``, makes the same
purchases as the run at ``e``. The add1 loop stops only at a change of the winners (the
budget overspent, an exhaustive result, everything bought), so its steps below ``T``
need not be run. Any check that fails at ``t = 0`` (which the run at ``e`` rules out
except for ties the second condition does not cover) means no skip at all; so does a
run whose prices do not match the split. A smaller answer is always safe (it only costs
runs): the bound is conservative, never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from tally.mes_run import Run

__all__ = ["Add1Skip", "Classes"]

# The classes of a project's supporters after a set of purchases (a bit mask): the bought
# projects each class paid for, its voters, and the project's one utility.
Classes = Callable[[int, int], tuple[Sequence[tuple[int, ...]], Sequence[int], int]]


class Add1Skip:
    """A profile prepared for ``steps`` (the bound above), for many runs of one add1.

    ``supporters(c)`` gives, for the candidate ``c``, ``(voter type, voters, utility)``
    for each voter type supporting it (a type is any hashable name of a distinct
    ballot); it is asked once per candidate, when first needed.
    """

    def __init__(
        self,
        supporters: Callable[[int], list[tuple[Hashable, int, int]]],
        candidates: Sequence[int],
        scaled_cost: Sequence[int],
        rank: Sequence[int],
        rationals: Any,
        classes: Classes | None = None,
    ) -> None:
        self._rational = rationals
        self._classes = classes
        self._rank = rank
        self._candidates = list(candidates)
        self._supporters_of = supporters
        self._supporters: dict[int, list[tuple[Hashable, int, int]]] = {}
        self._scaled_cost = scaled_cost
        self._total_utility: dict[int, int] = {}

    def supporters(self, c: int) -> list[tuple[Hashable, int, int]]:
        got = self._supporters.get(c)
        if got is None:
            got = self._supporters[c] = self._supporters_of(c)
            self._total_utility[c] = sum([m * u for _, m, u in got])
        return got

    def total_utility(self, c: int) -> int:
        if c not in self._total_utility:
            self.supporters(c)
        return self._total_utility[c]

    def steps(self, e: int, run: Run, step: int) -> int:
        """How many further raises of ``step`` after ``e`` are sure to give the same
        purchases as ``run`` (the run at ``e``): the largest ``j ≥ 0`` with
        ``j·step < T``; 0 as soon as ``T ≤ step`` is certain."""
        q = self._rational
        prices = [q(p.price) for p in run.purchases]
        if self._classes is not None and self._soon(e, run.winners, prices, step):
            return 0
        fold = _Fold(self, tuple(run.winners))
        bound = _Bound(step, q)
        # First the purchases themselves (cheap: the winners' supporters), which also
        # give each price's slope; then the other projects round by round.
        sigmas = fold.purchases(e, prices, bound)
        if sigmas is None or bound.done:
            return bound.steps()
        fold.rivals(e, prices, sigmas, bound)
        return bound.steps()

    def _soon(self, e: int, winners: list[int], prices: list[Any], step: int) -> bool:
        """Whether condition 1 already ends the stretch within one step, seen on the
        engine's own classes after each set of purchases (one utility per project,
        ``classes(w, set)``: the bought projects each class paid for and its voters).
        Only a shortcut: ``False`` lets the whole bound be computed, which checks
        everything again; so does a run whose prices do not match the split."""
        assert self._classes is not None
        q = self._rational
        paid: dict[int, tuple[Any, Any]] = {}  # project -> (its share, the share's slope)
        bought = 0
        for w, rho in zip(winners, prices, strict=True):
            projects, voters, u = self._classes(w, bought)
            share = rho * u
            poor0 = poor1 = rich = 0
            alive_poor = []
            for k, m in zip(projects, voters, strict=True):
                x0: Any = e
                x1: Any = 1
                for j in k:
                    p0, p1 = paid[j]
                    x0 -= p0
                    x1 -= p1
                if x0 >= share:
                    rich += m
                elif x0 >= 0:
                    poor0 += x0 * m
                    poor1 += x1 * m
                    alive_poor.append((x0, x1))
            if not rich or self._scaled_cost[w] - poor0 != share * rich:
                return False
            slope = -q(poor1) / rich  # the share's slope, σ·u
            for x0, x1 in alive_poor:
                if (share - x0) <= step * (x1 - slope):
                    return True
            paid[w] = (share, slope)
            bought |= 1 << w
        return False


class _Bound:
    """The least ``T`` met so far (``None``: none yet), against the step."""

    __slots__ = ("done", "limit", "rational", "step")

    def __init__(self, step: int, rational: Any) -> None:
        self.step = step
        self.rational = rational
        self.limit: Any = None
        self.done = False

    def need(self, a: Any, b: Any, strict: bool) -> None:
        """The condition ``a + b·t < 0`` (``≤ 0`` unless ``strict``) for ``t < T``."""
        if a > 0 or (strict and a == 0):
            self.fail()
            return
        if b > 0:
            t = self.rational(-a) / b  # exact: never int / int
            if self.limit is None or t < self.limit:
                self.limit = t
                if t <= self.step:
                    self.done = True

    def fail(self) -> None:
        self.limit = 0
        self.done = True

    def steps(self) -> int:
        if self.limit is None or self.limit <= self.step:
            return 0
        # the largest j with j·step < limit
        j = -(-self.limit // self.step) - 1
        return int(j)


class _Fold:
    """The voter types grouped into classes for one run's purchases: a class is the
    rounds its voters paid in, with their utilities. ``purchases`` builds the classes
    round by round (so that a bound found early costs only the rounds before it);
    ``hist(c)`` lists ``(class, utility for c, voters)`` for each candidate ``c`` once
    they are all built."""

    def __init__(self, skip: Add1Skip, winners: tuple[int, ...]) -> None:
        self.skip = skip
        self.winners = winners
        self.type_class: dict[Hashable, int] = {}
        self.size = 1
        self._hist: dict[int, list[tuple[int, int, int]]] = {}

    def hist(self, c: int) -> list[tuple[int, int, int]]:
        """``(class, utility for c, voters)`` for the classes of ``c``'s supporters."""
        got = self._hist.get(c)
        if got is None:
            type_class = self.type_class
            h: dict[tuple[int, int], int] = {}
            for t, m, u in self.skip.supporters(c):
                key = (type_class.get(t, 0), u)
                h[key] = h.get(key, 0) + m
            got = self._hist[c] = [(k, u, m) for (k, u), m in h.items()]
        return got

    def purchases(self, e: int, prices: list[Any], bound: _Bound) -> list[Any] | None:
        """Condition 1 for every purchase; the slopes ``σ_r`` (``None`` if the run does
        not match its prices). The classes are built as the rounds go: the class of the
        voters who paid in the rounds before and then (with utility ``u``) in round ``r``
        is the child ``(class, u)`` of their class before."""
        skip = self.skip
        type_class: dict[Hashable, int] = {}
        x0: list[Any] = [e]
        x1: list[Any] = [1]
        sigmas: list[Any] = []
        for r, w in enumerate(self.winners):
            rho = prices[r]
            supporters = skip.supporters(w)
            h: dict[tuple[int, int], int] = {}
            for t, m, u in supporters:
                key = (type_class.get(t, 0), u)
                h[key] = h.get(key, 0) + m
            poor0 = poor1 = rich_utility = 0
            alive_poor = []
            for (k, u), m in h.items():
                a = x0[k]
                if a >= rho * u:
                    rich_utility += u * m
                elif a >= 0:
                    poor0 += a * m
                    poor1 += x1[k] * m
                    alive_poor.append((k, u))
            if not rich_utility or (skip._scaled_cost[w] - poor0) != rho * rich_utility:
                bound.fail()  # cannot happen for a true run: no skip rather than a guess
                return None
            sigma = -skip._rational(poor1) / rich_utility
            sigmas.append(sigma)
            for k, u in alive_poor:
                bound.need(x0[k] - rho * u, x1[k] - sigma * u, strict=False)
            if bound.done:
                return sigmas
            child: dict[tuple[int, int], int] = {}
            for k, u in h:
                child[k, u] = len(x0)
                x0.append(x0[k] - rho * u)
                x1.append(x1[k] - sigma * u)
            for t, _, u in supporters:
                type_class[t] = child[type_class.get(t, 0), u]
        self.type_class = type_class
        self.size = len(x0)
        return sigmas

    def rivals(self, e: int, prices: list[Any], sigmas: list[Any], bound: _Bound) -> None:
        """Conditions 2 and 3 (the money of each class replayed round by round)."""
        skip = self.skip
        rank = skip._rank
        x0: list[Any] = [e] * self.size
        x1: list[Any] = [1] * self.size
        left = set(skip._candidates)
        for r, w in enumerate(self.winners):
            left.discard(w)
            rho, sigma = prices[r], sigmas[r]
            for c in left:
                cost = skip._scaled_cost[c]
                loses_ties = rank[c] > rank[w]
                total = skip.total_utility(c)
                # Q empty: g = ρ_r·U_c, which never grows (σ_r ≤ 0)
                if sigma <= 0 and (rho * total < cost or (loses_ties and rho * total == cost)):
                    continue
                g0: Any = 0
                g1: Any = 0
                rich = 0
                for k, u, m in self.hist(c):
                    a = x0[k]
                    if a < 0:
                        continue  # dead: in Q, nothing to pay
                    if a < rho * u:
                        g0 += a * m
                        g1 += x1[k] * m
                    else:
                        rich += u * m
                g0 += rho * rich
                g1 += sigma * rich
                bound.need(g0 - cost, g1, strict=not (loses_ties and rich > 0))
                if bound.done:
                    return
            for k, u, _ in self.hist(w):
                x0[k] -= rho * u
                x1[k] -= sigma * u
        for c in left:
            money0: Any = 0
            money1: Any = 0
            for k, _, m in self.hist(c):
                if x0[k] >= 0:
                    money0 += x0[k] * m
                    money1 += x1[k] * m
            bound.need(money0 - skip._scaled_cost[c], money1, strict=True)
            if bound.done:
                return
