"""Reading the log's Merkle nodes: a bounded cache of immutable nodes and a batched reader.

A perfect-subtree node never changes once written (docs/protocol.md §3.4), so any process
may keep it; proofs (§3.5–§3.6) read the few nodes they need in one query.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from audit.core.merkle import CompactRange
from audit.services.models import LogNode


class NodeCache:
    """Perfect-subtree hashes already seen by this process.

    A node never changes once written (the log only grows), so a cached node is always
    right, whichever process wrote it; the cache only saves database reads. Bounded: it
    is emptied when it grows past ``limit`` entries (recent nodes come back at once).
    """

    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self.nodes: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def add(self, items: Iterable[tuple[tuple[int, int], bytes]]) -> None:
        with self._lock:
            if len(self.nodes) > self.limit:
                self.nodes = {}
            self.nodes.update(items)


class NodeReader:
    """Serves ``get_node`` from ``log_node``, fetching all the nodes a computation needs
    in one query: a dry run records which coordinates it asks for."""

    _PLACEHOLDER = b"\x00" * 32

    def __init__(self, db: Session, cache: NodeCache | None = None) -> None:
        self.db = db
        self.cache = cache

    def get(self, level: int, index: int) -> bytes:
        value = self.db.execute(
            select(LogNode.hash).where(LogNode.level == level, LogNode.idx == index)
        ).scalar()
        if value is None:
            raise LookupError(f"the log has no node ({level}, {index})")
        return bytes(value)

    def fetch(self, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        keys = list(dict.fromkeys(wanted))
        known = self.cache.nodes if self.cache is not None else {}
        cached = {key: known[key] for key in keys if key in known}
        if len(cached) == len(keys):
            return cached
        keys = [key for key in keys if key not in cached]
        by_level: dict[int, list[int]] = {}
        for level, index in keys:
            by_level.setdefault(level, []).append(index)
        # One equality on level plus an IN list per level keeps every lookup on the
        # primary-key index (a row-value IN is not indexed by every engine).
        clauses = [
            and_(LogNode.level == level, LogNode.idx.in_(indices))
            for level, indices in by_level.items()
        ]
        found: dict[tuple[int, int], bytes] = {}
        if clauses:
            rows = self.db.execute(
                select(LogNode.level, LogNode.idx, LogNode.hash).where(or_(*clauses))
            )
            for level, index, value in rows:
                found[(level, index)] = bytes(value)
        missing = [key for key in keys if key not in found]
        if missing:
            raise LookupError(f"the log has no node {missing[0]}")
        if self.cache is not None:
            self.cache.add(found.items())
        found.update(cached)
        return found

    def prefetched_for(
        self, computation: Callable[[Callable[[int, int], bytes]], object]
    ) -> Callable[[int, int], bytes]:
        wanted: list[tuple[int, int]] = []

        def record(level: int, index: int) -> bytes:
            wanted.append((level, index))
            return self._PLACEHOLDER

        computation(record)
        nodes = self.fetch(wanted)
        return lambda level, index: nodes[(level, index)]

    def prefetched_edge(self, size: int) -> Callable[[int, int], bytes]:
        """The nodes of the tree's right edge at ``size``, fetched at once."""
        return self.prefetched_for(lambda g: CompactRange.from_nodes(size, g))
