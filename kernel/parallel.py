"""Work on the other cores: the one way Veche runs a pass in several processes.

Only two passes are worth it, both an auditor's: checking the hash chain of a large log
(``audit.core.chain``) and checking every ballot of an election (``ballot.core.record``).
Workers are forked, so they read what the parent already holds (the log's bytes, the
election's record) without copying or pickling it. A process that runs other threads
never forks — a thread may hold a lock the child would inherit forever — and neither
does a platform without ``fork``: there ``imap_forked`` is not offered
(``can_fork()`` is false) and the caller runs the pass itself. So the server, whose
handlers run in threads, always counts in its own process.

This module imports only the standard library: the pure cores may use it.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["can_fork", "imap_forked", "shared", "usable_cpus"]

T = TypeVar("T")
R = TypeVar("R")

# What the parent hands its workers: set just before the fork, read by the workers.
_shared: Any = None


def usable_cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether this process may fork workers now (Linux, and no other thread running)."""
    return (
        sys.platform == "linux"
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


def shared() -> Any:
    """In a worker: the value the parent passed to ``imap_forked`` as ``shared``."""
    return _shared


def imap_forked(
    function: Callable[[T], R], tasks: Sequence[T], workers: int, *, shared: Any = None
) -> Iterator[R]:
    """``function`` over ``tasks`` in ``workers`` forked processes, results in order.

    ``shared`` is inherited by the workers through the fork (``shared()`` returns it
    there). Every result is consumed and the pool is closed and joined, never
    terminated: terminating workers in the middle of a reply can leave a pool hanging.
    """
    if not can_fork():
        raise RuntimeError("this process cannot fork workers now; run the pass in-process")
    global _shared
    _shared = shared
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield from pool.imap(function, tasks)
    finally:
        pool.close()
        pool.join()
        _shared = None
