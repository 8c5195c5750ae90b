"""A pricing's pass over every supporter class of a project (``mes_approval_pricing``),
with the classes sorted by their fixed-point budgets: which side of a boundary each class
is on is then a binary search, and how many voters are on it a difference of running
sums, instead of a look at every class.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

__all__ = ["SortedClasses"]


class SortedClasses:
    """The classes ``0 … len(budgets) − 1`` of a full pass by fixed-point budget
    (``budgets[i]``, ``voters[i]`` voters): ``budgets`` ascending, ``classes`` the class
    of each position (equal budgets in any order), ``voters_below[p]`` the voters of the first
    ``p`` positions."""

    __slots__ = ("budgets", "classes", "voters_below")

    def __init__(
        self, budgets: list[int], voters: Sequence[int], previous: Sequence[int] = ()
    ) -> None:
        # From the order of the last pass over the same classes, if any: budgets move
        # little between runs, and the sort takes the long runs still in order as they
        # are. Classes with equal budgets may come in either order; nothing depends on it.
        order = sorted(previous or range(len(budgets)), key=budgets.__getitem__)
        self.classes = order
        self.budgets = list(map(budgets.__getitem__, order))
        self.voters_below = list(accumulate(map(voters.__getitem__, order), initial=0))

    def any_within(self, low: int, high: int) -> bool:
        """Whether a class has a budget ``a`` with ``low ≤ a ≤ high``."""
        at = bisect_left(self.budgets, low)
        return at < len(self.budgets) and self.budgets[at] <= high

    def split(self, zero: int, low: int, high: int) -> tuple[list[int], list[tuple[int, int]], int]:
        """As the one pass of ``_price``: the classes with ``zero ≤ a < low`` (poor), the
        pairs ``(a, class)`` with ``max(zero, low) ≤ a < high`` in order (the band), and
        the voters of the classes with ``a ≥ high`` (rich)."""
        b, classes = self.budgets, self.classes
        at_zero, at_low, at_high = bisect_left(b, zero), bisect_left(b, low), bisect_left(b, high)
        rich = self.voters_below[-1] - self.voters_below[at_high]
        first = max(at_low, at_zero)
        band = list(zip(b[first:at_high], classes[first:at_high], strict=True))
        return classes[at_zero:at_low], band, rich

    def set_aside(
        self, empty_below: int, poor_from: int, poor_below: int, rich_from: int
    ) -> tuple[tuple[int, ...], tuple[int, ...], int, int, int, tuple[int, int, int, int]]:
        """``(surely poor, near, their voters, near's voters, the voters at or above
        rich_from, limits)``: surely poor are the classes with ``poor_from ≤ a <
        poor_below``, near the others with ``empty_below ≤ a < rich_from``, each list in
        class order. ``limits`` are the four bounds made as tight as the budgets allow
        with the same classes on each side: the largest budget below ``empty_below``
        plus one, the least surely poor budget, the largest plus one, and the least
        budget at or above ``rich_from``."""
        b, classes, below = self.budgets, self.classes, self.voters_below
        at_empty, at_rich = bisect_left(b, empty_below), bisect_left(b, rich_from)
        at_poor, poor_end = bisect_left(b, poor_from), bisect_left(b, poor_below)
        if at_poor >= poor_end:  # no class is surely poor
            surely_poor: tuple[int, ...] = ()
            poor_voters = 0
            near = tuple(sorted(classes[at_empty:at_rich]))
            near_voters = below[max(at_rich, at_empty)] - below[at_empty]
        else:
            surely_poor = tuple(sorted(classes[at_poor:poor_end]))
            poor_voters = below[poor_end] - below[at_poor]
            end_first = max(at_empty, min(at_rich, at_poor))
            start_second = max(at_empty, poor_end)
            near = tuple(sorted(classes[at_empty:end_first] + classes[start_second:at_rich]))
            near_voters = below[end_first] - below[at_empty]
            near_voters += below[max(at_rich, start_second)] - below[start_second]
        rich_voters = below[-1] - below[at_rich]
        limits = (
            b[at_empty - 1] + 1 if at_empty else empty_below,
            b[at_poor] if surely_poor else poor_from,
            b[poor_end - 1] + 1 if surely_poor else poor_below,
            b[at_rich] if at_rich < len(b) else rich_from,
        )
        return surely_poor, near, poor_voters, near_voters, rich_voters, limits
