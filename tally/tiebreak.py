"""Tie-breaking as a value passed to every rule (as in pabutools' ``TieBreakingRule``).

A rule compares projects by its own criterion first (votes, price per voter, load…);
when that criterion cannot tell projects apart it asks a ``Ties`` object, built from the
election's ``TieBreak``, which orders projects totally (or refuses):

- ``cost-votes-lot``: lower cost, then more votes, then the lot. The lot orders projects
  by ``SHA-256(seed || project id)`` (smaller first), so anyone holding the seed can
  recompute it, and the order does not depend on the order projects are listed in.
- ``order``: a fixed order of project ids (by default the election's own order).
- ``refuse``: raises ``TieRefused``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from tally.errors import TieRefused
from tally.model import Project, TieBreak

__all__ = ["LOT_DOMAIN", "Ties", "lot_digest", "lot_seed"]

LOT_DOMAIN = b"veche/lot/v1"


def lot_seed(secret: bytes, ballots_digest: bytes) -> bytes:
    """``SHA-256("veche/lot/v1" || lot secret || digest of the counted ballots)``."""
    return hashlib.sha256(LOT_DOMAIN + secret + ballots_digest).digest()


def lot_digest(seed: bytes, project_id: str) -> bytes:
    """The lot's draw for one project: ``SHA-256(seed || project id as UTF-8)``."""
    return hashlib.sha256(seed + project_id.encode("utf-8")).digest()


class Ties:
    """A total order on an election's projects (by index), derived from a ``TieBreak``.

    ``rank[i]`` is project ``i``'s position in that order (0 is preferred). With the
    ``refuse`` method every project has rank 0 and ``pick`` raises on a real tie.
    """

    def __init__(self, projects: Sequence[Project], votes: Sequence[int], tb: TieBreak) -> None:
        self.method = tb.method
        n = len(projects)
        keys: list[tuple[object, ...]]
        if tb.method == "cost-votes-lot":
            keys = [(p.cost, -votes[i], lot_digest(tb.seed, p.id)) for i, p in enumerate(projects)]
        elif tb.method == "order":
            pos = {pid: k for k, pid in enumerate(tb.order)}
            # Projects missing from an explicit order come after it, in election order.
            keys = [(pos.get(p.id, len(pos)), i) for i, p in enumerate(projects)]
        else:
            keys = [(0,)] * n
        order = sorted(range(n), key=lambda i: keys[i])
        self.rank = [0] * n
        if tb.method != "refuse":
            for r, i in enumerate(order):
                self.rank[i] = r
        self.ids = [p.id for p in projects]

    @property
    def refuses(self) -> bool:
        return self.method == "refuse"

    def pick(self, tied: Iterable[int], context: str) -> int:
        """The preferred project among ``tied`` (indices), or ``TieRefused``."""
        items = list(tied)
        if len(items) > 1 and self.method == "refuse":
            raise TieRefused(sorted(self.ids[i] for i in items), context)
        return min(items, key=self.rank.__getitem__)

    def describe(self) -> str:
        return {
            "cost-votes-lot": "lower cost, then more votes, then the lot",
            "order": "the election's fixed project order",
            "refuse": "none (ties are refused)",
        }[self.method]
