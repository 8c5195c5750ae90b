"""What one run of the Method of Equal Shares returns, whichever engine made it.

Money is scaled by the number of voters ``n`` (``mes_engine``): a per-voter budget
``budget / n`` is the integer ``budget``; prices and money are exact rationals.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["Purchase", "Run"]


class Purchase(msgspec.Struct):
    """One round: the project bought and its price ρ per unit of satisfaction (scaled by
    n: each supporter pays ``min(what they have, ρ·u/n)`` for utility ``u``); with the
    run's details, how many voters paid and how many of them paid all they had left."""

    project: int
    price: Any
    payers: int = 0
    paid_all: int = 0


class Run(msgspec.Struct):
    """One run at per-voter budget ``scaled_budget / n``: the purchases in order and,
    with the run's details, each project found unaffordable: ``(the round after which,
    the money its supporters had left in all, scaled)``."""

    scaled_budget: int
    purchases: list[Purchase]
    unaffordable: dict[int, tuple[int, Any]] = msgspec.field(default_factory=dict)

    @property
    def winners(self) -> list[int]:
        return [p.project for p in self.purchases]
