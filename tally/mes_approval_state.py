"""The state of ``mes_approval``'s engine: a project's supporter classes after a set of
purchases (kept across runs), and one run (its budget and the shares it paid).

Money is scaled by the number of voters ``n`` (see ``mes_engine``). Fixed-point values
are in units of 2**-``SHIFT`` of scaled money.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from math import lcm
from operator import add, itemgetter, sub
from typing import Any

__all__ = ["SHIFT", "RunState", "SupporterClasses", "mask_projects"]

# A few bits below the unit are enough: a class within the slack of a boundary is decided
# exactly anyway, and a per-voter budget times the voters times 2**4 stays one 30-bit
# digit (the integers CPython adds, compares and sorts fastest) up to about 67 million.
SHIFT = 4


class SupporterClasses:
    """The classes of one project's supporters after one set of bought projects: the
    supporters who supported the same bought projects have the same budget in any run.

    ``projects[i]``: the bought projects class ``i`` supported; ``pairs``, the same as
    indices into ``RunState.pair_sums``, one column per two projects (``pairs[j][i]`` for
    class ``i``'s projects ``2j`` and ``2j + 1``, padded with a project that costs
    nothing); ``width``, the most bought projects one class supported; ``voters[i]``: how
    many voters are in class ``i``; ``counts``, the same as a mapping from each class's
    bit mask to its voters.

    From the last pricing after this set (in any run) the next one starts:
    ``last_share``, the fixed-point share found (rounded up; ``None`` before any), and
    ``band``, the half-width of the band around it whose classes are looked at one by
    one; ``poor``, the classes found poor (paying all they have, with money left), with
    ``poor_voters`` voters of whom ``poor_supporters[p]`` (a list by project, one longer
    for the project that costs nothing) supported the bought project ``p``; ``bought``
    picks the entries of the set's projects from such a list (at least two, padded
    with the project that costs nothing), for the products that only they can make.

    Classes set aside: when every class was last looked at, in run ``reference``, those
    below ``empty_below`` had nothing left, those at or above ``rich_from``
    (``far_rich_voters`` voters) could pay any share near the last, and those in
    ``surely_poor`` (``surely_poor_voters`` voters, all below ``surely_poor_below`` and
    at or above ``surely_poor_from``) were poor with money left, the four limits as tight
    as those budgets allow. Only the classes ``near`` (``near_pairs``, ``near_voters``
    voters) are looked at while no budget can have moved far enough since ``reference``
    to change side. ``order``: the classes by budget at that pass, where the next pass
    over every class starts its sort.
    """

    __slots__ = (
        "band",
        "bought",
        "counts",
        "empty_below",
        "far_rich_voters",
        "last_share",
        "near",
        "near_pairs",
        "near_voters",
        "order",
        "pairs",
        "poor",
        "poor_supporters",
        "poor_voters",
        "projects",
        "reference",
        "rich_from",
        "surely_poor",
        "surely_poor_below",
        "surely_poor_from",
        "surely_poor_voters",
        "voters",
        "width",
    )

    def __init__(
        self,
        pairs: Sequence[Sequence[int]],
        voters: Sequence[int],
        projects: Sequence[tuple[int, ...]],
        counts: dict[int, int],
        n_projects: int,
        width: int,
        bought: Sequence[int],
    ) -> None:
        self.pairs = pairs
        self.counts = counts
        self.voters = voters
        self.projects = projects
        self.width = width
        self.last_share: int | None = None
        self.band = 0
        self.reference: RunState | None = None
        self.empty_below = 0
        self.rich_from = 0
        self.far_rich_voters = 0
        self.near: Sequence[int] = ()
        self.near_pairs: Sequence[Sequence[int]] = ()
        self.order: Sequence[int] = ()
        self.near_voters = 0
        self.surely_poor_below = 0
        self.surely_poor_from = 0
        self.surely_poor: Sequence[int] = ()
        self.surely_poor_voters = 0
        self.poor: set[int] = set()
        self.poor_supporters = [0] * (n_projects + 1)
        self.bought = itemgetter(*bought, *repeat(n_projects, 2 - len(bought)))
        self.poor_voters = 0


class RunState:
    """One run at per-voter budget ``budget`` (scaled by n).

    The share ``p_i`` paid for each bought project ``i`` is kept exactly as an integer
    over the common denominator ``denominator`` (``share_numerator[i]``; the budget over
    it is ``budget_numerator``) and in fixed point (``share_fixed[i]``, rounded; the
    budget is ``budget_fixed``). A class's fixed-point budget is ``budget_fixed −
    Σ share_fixed`` over the projects it supported, off by at most half a unit per share;
    ``pair_sums[p·stride + q]`` is ``share_fixed[p] + share_fixed[q]`` (``stride`` the
    projects plus one, the last a project that costs nothing, to pad with) and
    ``pair_left[p·stride + q]`` is ``budget_fixed`` minus that, so that a class's budget
    is read for its first two projects and takes one subtraction for each two more
    (both emptied once the run is over). ``bought`` lists the purchases in order;
    ``bought_masks[j]`` is the mask of the first ``j``.

    Against each other run ``ref``: ``share_deviation[ref][i]``, ``|p_i − p_i(ref)|`` in
    fixed point plus one unit, and ``largest_deviations[ref][j]``, the
    ``deviations_kept`` largest of them over the first ``j`` purchases.
    """

    __slots__ = (
        "bought",
        "bought_masks",
        "budget",
        "budget_fixed",
        "budget_numerator",
        "denominator",
        "deviations_kept",
        "largest_deviations",
        "pair_left",
        "pair_sums",
        "share_deviation",
        "share_fixed",
        "share_numerator",
        "stride",
    )

    def __init__(self, budget: int, n_projects: int, deviations_kept: int) -> None:
        self.budget = budget
        self.deviations_kept = deviations_kept
        self.denominator = 1
        self.budget_numerator = budget
        self.stride = n_projects + 1
        self.share_numerator = [0] * self.stride
        self.share_fixed = [0] * self.stride
        self.budget_fixed = budget << SHIFT
        self.pair_sums = [0] * (self.stride * self.stride)
        self.pair_left = [self.budget_fixed] * (self.stride * self.stride)
        self.bought: list[int] = []
        self.bought_masks = [0]
        self.largest_deviations: dict[RunState, list[tuple[int, ...]]] = {}
        self.share_deviation: dict[RunState, list[int]] = {}

    def finish(self) -> None:
        """The run is over: let go of what only the run itself reads (the sums of pairs
        of shares, its deviations from other runs); later runs read its shares, budget
        and sets."""
        self.pair_sums = []
        self.pair_left = []
        self.largest_deviations = {}
        self.share_deviation = {}

    def exact_budget(self, projects: tuple[int, ...]) -> int:
        """The budget of the class that supported ``projects``, times ``denominator``,
        before clipping at 0."""
        numerator = self.share_numerator
        return self.budget_numerator - sum([numerator[i] for i in projects])

    def buy(self, w: int, share: Any) -> None:
        """Record the purchase of ``w`` at ``share`` (an exact rational)."""
        num, den = int(share.numerator), int(share.denominator)
        d = lcm(self.denominator, den)
        if d != self.denominator:
            f = d // self.denominator
            numerator = self.share_numerator
            for i in self.bought:
                numerator[i] *= f
            self.denominator = d
            self.budget_numerator = self.budget * d
        self.share_numerator[w] = num * (d // den)
        fixed = self.share_fixed
        fixed[w] = ((num << (SHIFT + 1)) + den) // (den << 1)  # round(share·2**SHIFT)
        row = list(map(add, repeat(fixed[w]), fixed))  # share w plus each share
        stride = self.stride
        self.pair_sums[w * stride : (w + 1) * stride] = row  # (w, q)
        self.pair_sums[w::stride] = row  # (q, w)
        row = list(map(sub, repeat(self.budget_fixed - fixed[w]), fixed))
        self.pair_left[w * stride : (w + 1) * stride] = row
        self.pair_left[w::stride] = row
        self.bought.append(w)
        self.bought_masks.append(self.bought_masks[-1] | (1 << w))

    def deviation_bound(self, ref: RunState, rounds: int, width: int) -> int:
        """A bound, in fixed point, on ``Σ_{i∈K} |p_i − p_i(ref)|`` for a set ``K`` of at
        most ``width`` of this run's first ``rounds`` purchases (all of which ``ref``
        made too): the sum of the ``width`` largest terms. Each term is taken from the
        fixed-point shares, plus one unit for their rounding (half a unit each)."""
        if ref is self:
            return 0
        tops = self.largest_deviations.get(ref)
        if tops is None:
            tops = self.largest_deviations[ref] = [()]
            self.share_deviation[ref] = [0] * len(self.share_fixed)
        keep = self.deviations_kept
        if len(tops) <= rounds:
            mine, theirs = self.share_fixed, ref.share_fixed
            deviation = self.share_deviation[ref]
            top = tops[-1]
            for w in self.bought[len(tops) - 1 : rounds]:
                dev = deviation[w] = abs(mine[w] - theirs[w]) + 1
                if len(top) < keep or dev > top[-1]:
                    top = tuple(sorted((*top, dev), reverse=True)[:keep])
                tops.append(top)
        top = tops[rounds]
        if width <= len(top) or len(top) < keep:
            return sum(top[:width])
        return sum(top) + (width - len(top)) * top[-1]


def mask_projects(mask: int) -> list[int]:
    """The projects (bit positions) in ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out
