"""What the log's handlers use of the application's state (typed; see ``kernel.web``)."""

from __future__ import annotations

from audit.core.entry import EntryKinds
from audit.services.store import LogStore
from kernel.web import KernelState


class LogState(KernelState):
    log_store: LogStore
    kinds: EntryKinds
