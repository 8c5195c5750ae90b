"""The sequencer: one thread per process that drains pending work items in batches.

Callers submit work items (``work(db, log)``, see ``audit.services.store``) and wait for
the batch that holds theirs to be durable (group commit, docs/protocol.md §3.9).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import Any, TypeVar

from audit.services.store import MAX_BATCH, Committed, LogStore, Work, WorkItem

T = TypeVar("T")
log = logging.getLogger("veche.audit")


class Sequencer:
    """One thread per process that drains pending work items in batches."""

    def __init__(self, store: LogStore, *, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[WorkItem[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.items = 0

    def submit(self, work: Work[T], *, savepoint: bool = True) -> Future[Committed[T]]:
        item: WorkItem[T] = WorkItem(work, savepoint)
        self._ensure_running()
        self._queue.put(item)
        return item.future

    def run(self, work: Work[T], timeout: int = 60, *, savepoint: bool = True) -> Committed[T]:
        """Submit and wait until the work's batch is durable (or raise its error).
        ``savepoint=False`` only for narrow items (the module's docstring)."""
        return self.submit(work, savepoint=savepoint).result(timeout=timeout)

    def _ensure_running(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._loop, name="veche-log-sequencer", daemon=True
                    )
                    self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            items: list[WorkItem[Any]] = [first]
            stop = False
            while len(items) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            try:
                self.store.run_batch(items)
            except BaseException:  # pragma: no cover - run_batch answers every future
                log.exception("log batch failed")
            self.batches += 1
            self.items += len(items)
            if stop:
                return

    def stop(self, timeout: int = 10) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
