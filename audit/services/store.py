"""The audit log in the database: one sequencer, group commit, proofs from stored nodes.

docs/protocol.md §3.9: appends are serialized, never fork, and are written atomically
with the domain change they record. A *work item* is a function ``work(db, log)`` that
makes its domain changes on the session ``db`` and appends its entries with
``log.append(kind, body)``. The sequencer runs many pending items in one transaction
(group commit), each inside a savepoint: an item that raises is rolled back alone,
with its entries, and its caller gets the exception. An item submitted with
``savepoint=False`` (a *narrow* item: the hot paths, casting a ballot and issuing a
credential) skips the two statements a savepoint costs; it promises to write with at
most one statement, its last, and to raise only before that statement or when the
statement wrote nothing (``insert_new``), so that dropping its entries undoes it
whole. Items share ``log.memo`` for reads that only a write can invalidate (an
election's status); it is emptied after every savepoint item, the only kind that may
make such writes. After the batch's entries, the
perfect-subtree nodes they complete (``audit.merkle``) and a signed checkpoint are
written, the transaction commits, and only then is each caller answered.

Writers in several processes are serialized by the database: SQLite's ``BEGIN
IMMEDIATE`` (with a file lock beside the database in front of it, see ``_FileLock``) and
PostgreSQL's ``SELECT … FOR UPDATE`` on the single ``log_head`` row. A
process caches the right edge of the tree and reloads it (O(log n) reads) whenever the
head moved under it. ``seq`` is the primary key, so a reused ``seq`` fails the batch
rather than forking the chain.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: SQLite's busy handler alone
    fcntl = None  # type: ignore[assignment]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import GENESIS_KIND, ZERO_HASH, EntryKinds, build_entry, format_at, leaf_hash
from audit.core.export import KeyInfo
from audit.core.merkle import CompactRange, consistency_proof, inclusion_proof, root_from_nodes
from audit.services.models import LogCheckpoint, LogEntry, LogHead, LogNode
from audit.services.nodes import NodeCache, NodeReader

log = logging.getLogger("veche.audit")

T = TypeVar("T")
MAX_BATCH = 2000
SOFTWARE = "veche 0.1"


@dataclass(frozen=True)
class Appended:
    seq: int
    leaf_hash: bytes
    kind: str


@dataclass(frozen=True)
class SignedCheckpoint:
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class Committed(Generic[T]):
    """What a work item's caller gets once its batch is durable."""

    result: T
    entries: list[Appended]
    checkpoint: SignedCheckpoint


class BatchLog:
    """The log as a work item sees it: ``append`` assigns the next ``seq`` at once."""

    def __init__(self, edge: CompactRange, prev: bytes, at: str, kinds: EntryKinds) -> None:
        self._edge = edge
        self._kinds = kinds
        self._prev = prev
        self._at = at
        # (seq, kind, leaf_hash, data) and (level, idx, hash): the rows to write.
        self.rows: list[tuple[int, str, bytes, bytes]] = []
        self.nodes: list[tuple[int, int, bytes]] = []
        self.appended: list[Appended] = []
        # Reads shared by the batch's narrow items; see the module's docstring.
        self.memo: dict[Any, Any] = {}

    @property
    def size(self) -> int:
        return self._edge.size

    @property
    def edge(self) -> CompactRange:
        return self._edge

    @property
    def prev(self) -> bytes:
        return self._prev

    @property
    def at(self) -> str:
        """The ``at`` every entry of this batch carries (docs/protocol.md §3.9)."""
        return self._at

    def append(self, kind: str, body: object) -> Appended:
        seq = self._edge.size
        prev_hex = self._prev.hex() if seq else ZERO_HASH
        data = build_entry(seq, prev_hex, self._at, kind, body, self._kinds)
        leaf = leaf_hash(data)
        for level, index, node in self._edge.append(leaf):
            self.nodes.append((level, index, node))
        self.rows.append((seq, kind, leaf, data))
        self._prev = leaf
        appended = Appended(seq, leaf, kind)
        self.appended.append(appended)
        return appended

    # Savepoint support: an item that fails takes its entries with it.
    def mark(self) -> tuple[int, list[bytes], bytes, int, int, int]:
        return (
            self._edge.size,
            list(self._edge.nodes),
            self._prev,
            len(self.rows),
            len(self.nodes),
            len(self.appended),
        )

    def reset(self, mark: tuple[int, list[bytes], bytes, int, int, int]) -> None:
        size, edge_nodes, prev, rows, nodes, appended = mark
        self._edge.size = size
        self._edge.nodes = edge_nodes
        self._prev = prev
        del self.rows[rows:]
        del self.nodes[nodes:]
        del self.appended[appended:]


Work = Callable[[Session, BatchLog], T]


@dataclass
class WorkItem(Generic[T]):
    work: Work[T]
    savepoint: bool = True
    future: Future[Committed[T]] = field(default_factory=Future)


def insert_new(db: Session, table: Any, values: dict[str, Any], conflict: Sequence[str]) -> bool:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING``; whether a row was written.

    The one write of a narrow work item: a duplicate writes nothing and raises nothing,
    so the item can refuse it without a savepoint (and, on PostgreSQL, without aborting
    the batch's transaction as a failed statement would). Like the batch's own rows
    (``_BatchSQL``) it goes to the driver as it is: the values must be what the driver
    takes unconverted (``int``, ``str``, ``bytes``, None)."""
    conn = db.connection()
    dialect = conn.dialect.name
    key = (dialect, table.name, tuple(values), tuple(conflict))
    sql = _INSERT_NEW.get(key)
    if sql is None:
        mark = "%s" if dialect == "postgresql" else "?"
        unknown = [name for name in (*values, *conflict) if name not in table.c]
        if unknown:
            raise KeyError(f"{table.name} has no column {unknown[0]!r}")
        sql = (
            f"INSERT INTO {table.name} ({', '.join(values)}) "
            f"VALUES ({', '.join(mark for _ in values)}) "
            f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING {conflict[0]}"
        )
        _INSERT_NEW[key] = sql
    # RETURNING, not rowcount: psycopg reports no row count for this statement.
    return conn.exec_driver_sql(sql, tuple(values.values())).first() is not None


_INSERT_NEW: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], str] = {}


class _FileLock:
    """An exclusive ``flock`` on a file beside a SQLite database, held around a batch.

    Several server processes on one SQLite file each have a sequencer. SQLite alone
    would serialize their batches with its busy handler, which sleeps and retries
    (1, 2, 5 … 100 ms): with two processes under load, a batch often waited for a sleep
    long after the other had committed (p99 over a second). A process blocked on
    ``flock`` wakes the moment the lock is released. The kernel drops the lock of a
    process that dies, so a crash never leaves it held."""

    def __init__(self, path: str | None) -> None:
        self._fd: int | None = None
        if path is None or fcntl is None:
            return
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def __enter__(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)  # type: ignore[union-attr]


def _batch_lock_path(engine: Engine) -> str | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.batch-lock"


class _BatchSQL:
    """The statements every batch runs, as driver-level SQL.

    A batch writes hundreds of rows of plain integers, text and bytes; through
    SQLAlchemy's statements each row's values pass its type processors, which took
    most of the batch's write time. The statements are fixed and their values need no
    conversion (both drivers take ``bytes`` for a blob), so they go to the driver as
    they are, in its own placeholder style."""

    def __init__(self, dialect: str) -> None:
        mark = "%s" if dialect == "postgresql" else "?"

        def insert_into(table: str, columns: str) -> str:
            marks = ", ".join(mark for _ in columns.split(", "))
            return f"INSERT INTO {table} ({columns}) VALUES ({marks})"

        self.entries = insert_into("log_entry", "seq, kind, leaf_hash, data")
        self.nodes = insert_into("log_node", "level, idx, hash")
        self.checkpoint = insert_into("log_checkpoint", "size, root, note, at")
        self.head = f"UPDATE log_head SET size = {mark} WHERE id = 1"
        lock = " FOR UPDATE" if dialect == "postgresql" else ""
        self.load_head = f"SELECT size FROM log_head WHERE id = 1{lock}"


class LogStore:
    """Reads and batched writes of the log; one instance per process and database."""

    def __init__(
        self,
        engine: Engine,
        signing_key: Ed25519PrivateKey,
        origin: str,
        kinds: EntryKinds,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.kinds = kinds
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            engine.execution_options(readonly=True), expire_on_commit=False
        )
        self.signing_key = signing_key
        self.origin = origin
        self.key_info = KeyInfo.from_private_key(origin, signing_key)
        self.clock = clock
        self._edge: CompactRange | None = None
        self._prev = b""
        # One batch at a time per process; the database serializes processes (and for a
        # SQLite file, a file lock makes the waiting process wake at once).
        self._batch_lock = threading.Lock()
        self._file_lock = _FileLock(_batch_lock_path(engine))
        self.node_cache = NodeCache()
        self._postgres = engine.dialect.name == "postgresql"
        self._sql = _BatchSQL(engine.dialect.name)
        # Called with each committed batch's checkpoint, in the sequencer's thread, after
        # the commit: they must not block (the cosigner only sets an event, §15.7).
        self.listeners: list[Callable[[SignedCheckpoint], None]] = []

    # --- writing ------------------------------------------------------------------------
    def run_batch(self, items: Sequence[WorkItem[Any]]) -> None:
        """Run the items in one transaction; answer each item's future afterwards."""
        with self._batch_lock, self._file_lock:
            self._run_batch(items)

    def _run_batch(self, items: Sequence[WorkItem[Any]]) -> None:
        outcomes: list[tuple[WorkItem[Any], Any, list[Appended] | None, BaseException | None]] = []
        try:
            with self.sessions() as db, db.begin():
                edge, prev = self._load_head(db)
                at = format_at(datetime.fromtimestamp(int(self.clock()), UTC))
                batch = BatchLog(edge, prev, at, self.kinds)
                for item in items:
                    mark = batch.mark()
                    first = len(batch.appended)
                    try:
                        if item.savepoint:
                            try:
                                with db.begin_nested():
                                    result = item.work(db, batch)
                            finally:
                                batch.memo.clear()
                        else:
                            result = item.work(db, batch)
                    except Exception as exc:  # the item's own failure, reported to it
                        batch.reset(mark)
                        outcomes.append((item, None, None, exc))
                    else:
                        outcomes.append((item, result, batch.appended[first:], None))
                checkpoint = self._write_batch(db, batch)
            # Committed: the batch's right edge is now the database's head, and its nodes
            # will be asked for by the receipts of the entries just appended.
            self._edge, self._prev = batch.edge, batch.prev
            self.node_cache.add(((level, index), node) for level, index, node in batch.nodes)
        except BaseException as exc:
            self._edge = None  # the cached head may be ahead of the database now
            for item in items:
                if not item.future.done():
                    item.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for listener in self.listeners:
            try:
                listener(checkpoint)
            except Exception:  # pragma: no cover - a listener's bug never fails a batch
                log.exception("checkpoint listener failed")
        for item, result, appended, error in outcomes:
            if error is not None:
                item.future.set_exception(error)
            else:
                assert appended is not None
                item.future.set_result(Committed(result, appended, checkpoint))

    def _load_head(self, db: Session) -> tuple[CompactRange, bytes]:
        conn = db.connection()
        size = conn.exec_driver_sql(self._sql.load_head).scalar_one_or_none()
        if size is None:
            # The very first batch; another process may be making the head row right now.
            dialect_insert = pg_insert if self._postgres else sqlite_insert
            db.execute(dialect_insert(LogHead).values(id=1, size=0).on_conflict_do_nothing())
            size = conn.exec_driver_sql(self._sql.load_head).scalar_one()
        if self._edge is None or self._edge.size != size:
            getter = NodeReader(db, self.node_cache)
            self._edge = CompactRange.from_nodes(size, getter.prefetched_edge(size))
            self._prev = getter.get(0, size - 1) if size else b""
        # Work on a copy: if the batch fails, the cache is still the database's head.
        return CompactRange(self._edge.size, list(self._edge.nodes)), self._prev

    def _write_batch(self, db: Session, batch: BatchLog) -> SignedCheckpoint:
        edge = batch.edge
        root = edge.root()
        if not batch.rows:
            existing = db.get(LogCheckpoint, edge.size)
            if existing is not None:
                return SignedCheckpoint(existing.size, existing.root, existing.note)
        note = sign_checkpoint(
            self.signing_key, self.origin, Checkpoint(self.origin, edge.size, root)
        )
        # The batch's rows go to the driver as they are (see _BatchSQL).
        conn = db.connection()
        sql = self._sql
        if batch.rows:
            conn.exec_driver_sql(sql.entries, batch.rows)  # type: ignore[arg-type]
            conn.exec_driver_sql(sql.nodes, batch.nodes)  # type: ignore[arg-type]
            conn.exec_driver_sql(sql.head, (batch.size,))
        conn.exec_driver_sql(sql.checkpoint, (edge.size, root, note, int(self.clock())))
        return SignedCheckpoint(edge.size, root, note)

    def append_now(self, work: Work[T]) -> Committed[T]:
        """Run one work item in its own batch, in the calling thread (CLI and tests)."""
        item: WorkItem[T] = WorkItem(work)
        self.run_batch([item])
        return item.future.result()

    def ensure_genesis(self, software: str = SOFTWARE) -> None:
        """Write entry 0 (origin and the log's public key) if the log is empty."""

        def genesis(db: Session, batch: BatchLog) -> None:
            if batch.size == 0:
                info = self.key_info
                batch.append(
                    GENESIS_KIND,
                    {
                        "origin": info.origin,
                        "public_key": info.public_key,
                        "software": software,
                        "verifier_key": info.verifier_key,
                    },
                )

        self.append_now(genesis)

    # --- reading ------------------------------------------------------------------------
    def size(self, db: Session) -> int:
        return int(db.execute(select(LogHead.size).where(LogHead.id == 1)).scalar() or 0)

    def latest_checkpoint(self, db: Session) -> LogCheckpoint | None:
        return db.scalars(
            select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
        ).first()

    def checkpoint(self, db: Session, size: int) -> LogCheckpoint | None:
        return db.get(LogCheckpoint, size)

    def entries(self, db: Session, start: int, end: int) -> list[bytes]:
        rows = db.execute(
            select(LogEntry.data)
            .where(LogEntry.seq >= start, LogEntry.seq < end)
            .order_by(LogEntry.seq)
        ).scalars()
        return [bytes(row) for row in rows]

    def entry(self, db: Session, seq: int) -> LogEntry | None:
        return db.get(LogEntry, seq)

    def leaf(self, db: Session, seq: int) -> bytes | None:
        value = db.execute(
            select(LogNode.hash).where(LogNode.level == 0, LogNode.idx == seq)
        ).scalar()
        return bytes(value) if value is not None else None

    def root(self, db: Session, size: int) -> bytes:
        reader = NodeReader(db, self.node_cache)
        return root_from_nodes(size, reader.prefetched_for(lambda g: root_from_nodes(size, g)))

    def inclusion_proof(self, db: Session, seq: int, size: int) -> list[bytes]:
        reader = NodeReader(db, self.node_cache)
        getter = reader.prefetched_for(lambda g: inclusion_proof(seq, size, g))
        return inclusion_proof(seq, size, getter)

    def inclusion_proof_cached(self, seq: int, size: int) -> list[bytes] | None:
        """The inclusion proof from this process's node cache alone, or None when a node
        is missing. A receipt's entry was just appended by this process, so its proof's
        nodes are usually all there and no session is opened."""
        known = self.node_cache.nodes  # replaced, never emptied in place: safe to hold
        try:
            return inclusion_proof(seq, size, lambda level, index: known[(level, index)])
        except KeyError:
            return None

    def consistency_proof(self, db: Session, first: int, second: int) -> list[bytes]:
        reader = NodeReader(db, self.node_cache)
        getter = reader.prefetched_for(lambda g: consistency_proof(first, second, g))
        return consistency_proof(first, second, getter)
