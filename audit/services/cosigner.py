"""The log asks its witnesses to cosign its checkpoints (docs/protocol.md §15.7).

A batch signs its checkpoint inside the sequencer's transaction, as before; witnesses are
never asked there. After each batch the sequencer's thread only *notifies* the
``Cosigner`` (an event, no I/O). The cosigner's own thread wakes at most once every
``interval_ms``, takes the newest checkpoint in the database and sends it, with a
consistency proof from the size each witness is known to hold, to every witness at once
(``POST <url>/add-checkpoint``, keep-alive connections). Checkpoints issued while a round
is in flight are not sent; the next round sends the newest, whose proof covers them. A
witness that answers 409 names the size it holds (``text/x.tlog.size``): the cosigner
takes it and asks again once. Every cosignature line is verified against the witness's
key before it is stored in ``log_cosignature``.

The thread also wakes every ``poll_ms`` milliseconds for checkpoints that other processes signed;
a witness is not asked again for a checkpoint it holds or refused, only for a newer one
(one it could not be reached for is asked again).

Hence appends never wait for a witness, and the checkpoint served as the log's latest
(``served_checkpoint``) is the newest one that ``policy`` witnesses cosigned; it
may lag the newest signed checkpoint by a round (interval plus the witnesses' latency).
A log whose history was rewritten after a cosigned checkpoint gets no more cosignatures:
the witnesses answer 422 (or 409), the refusal is logged, and the served checkpoint stays
the last one they cosigned, which the rewritten entries no longer match.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from audit.core.cosignature import Witness, parse_witness_key
from audit.core.errors import NoteError
from audit.core.note import parse_note
from audit.core.witness import SIZE_CONTENT_TYPE, render_add_checkpoint
from audit.services.models import LogCheckpoint, LogCosignature
from audit.services.store import LogStore, insert_new

__all__ = [
    "Cosigner",
    "WitnessEndpoint",
    "add_cosignatures",
    "cosignature_lines",
    "parse_witness_setting",
    "served_checkpoint",
]

log = logging.getLogger("veche.audit.witness")


@dataclass
class WitnessEndpoint:
    """A witness the log asks: its submission prefix, key, and the size it holds."""

    url: str
    witness: Witness
    held: int | None = None
    # The size of the last checkpoint this witness refused (not asked again for it).
    refused: int | None = None
    _conn: http.client.HTTPConnection | None = None

    def post(self, body: bytes, timeout_ms: int) -> tuple[int, str, bytes]:
        """``POST <url>/add-checkpoint`` on a kept-alive connection (one retry on a
        connection the witness closed), each step waiting at most ``timeout_ms``."""
        parts = urllib.parse.urlsplit(self.url)
        path = parts.path.rstrip("/") + "/add-checkpoint"
        for attempt in (1, 2):
            if self._conn is None:
                kind = (
                    http.client.HTTPSConnection
                    if parts.scheme == "https"
                    else http.client.HTTPConnection
                )
                self._conn = kind(parts.netloc, timeout=timeout_ms / 1000)
            try:
                self._conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
                response = self._conn.getresponse()
                data = response.read()
                return response.status, response.getheader("Content-Type") or "", data
            except (OSError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def parse_witness_setting(entry: str) -> WitnessEndpoint:
    """``"URL VKEY"`` of the ``witnesses`` setting."""
    url, _, vkey = entry.partition(" ")
    return WitnessEndpoint(url, parse_witness_key(vkey))


def add_cosignatures(store: LogStore, size: int, lines: Sequence[tuple[str, str]], at: int) -> None:
    """Store verified cosignature lines ``(witness name, line)`` on checkpoint ``size``; a
    witness's first line on a checkpoint is kept (several server processes may store the
    same witness's answers: ``ON CONFLICT DO NOTHING``)."""
    table = LogCosignature.__table__  # type: ignore[attr-defined]
    with store.sessions() as db, db.begin():
        for witness, line in lines:
            values = {"size": size, "witness": witness, "line": line, "at": at}
            insert_new(db, table, values, ("size", "witness"))


def cosignature_lines(db: Session, size: int) -> list[str]:
    rows = db.scalars(
        select(col(LogCosignature.line))
        .where(col(LogCosignature.size) == size)
        .order_by(col(LogCosignature.witness))
    )
    return list(rows)


def served_checkpoint(store: LogStore, db: Session, policy: int) -> str | None:
    """The checkpoint served as the log's latest, with its cosignature lines: the newest
    that at least ``policy`` witnesses cosigned; when none has (or ``policy`` is 0), the
    newest checkpoint with the lines it has, so that a client's policy, not the server,
    decides whether it is enough. None when the log has no checkpoint yet."""
    latest = None
    if policy > 0:
        size = db.scalar(
            select(col(LogCosignature.size))
            .group_by(col(LogCosignature.size))
            .having(func.count() >= policy)
            .order_by(col(LogCosignature.size).desc())
            .limit(1)
        )
        latest = None if size is None else db.get(LogCheckpoint, size)
    if latest is None:
        latest = store.latest_checkpoint(db)
    if latest is None:
        return None
    return latest.note + "".join(cosignature_lines(db, latest.size))


class Cosigner:
    """One thread per server process that gets the newest checkpoint cosigned."""

    def __init__(
        self,
        store: LogStore,
        endpoints: Sequence[WitnessEndpoint],
        *,
        policy: int,
        interval_ms: int = 200,
        poll_ms: int = 5000,
        timeout_ms: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.endpoints = list(endpoints)
        self.policy = policy
        self.interval = interval_ms / 1000
        self.poll = poll_ms / 1000
        self.timeout_ms = timeout_ms
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max(1, len(self.endpoints)), "veche-witness")
        self._done = threading.Condition()
        # Resolved (with the new cosigned size) at the next advance, then replaced: the
        # one thing the receipts waiting on the event loop hold (§15.7).
        self._advance: Future[int] = Future()
        self.cosigned_size = 0
        self.rounds = 0

    # --- the thread ---------------------------------------------------------------------
    def notify(self) -> None:
        """A new checkpoint was committed (called by the sequencer; never blocks)."""
        self._wake.set()
        if self._thread is None:
            self.start()

    def start(self) -> None:
        if self._thread is None and self.endpoints:
            self._thread = threading.Thread(
                target=self._loop, name="veche-log-cosigner", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        self._pool.shutdown(wait=True, cancel_futures=True)
        for endpoint in self.endpoints:
            endpoint.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            # Also woken every ``poll`` seconds: checkpoints signed by other processes
            # (commands, other servers on the database) notify no one here.
            self._wake.wait(self.poll)
            if self._stop.is_set():
                return
            self._wake.clear()
            started = time.monotonic()
            try:
                self.cosign_latest()
            except Exception:  # a round's failure must not end the thread
                log.exception("cosigning round failed")
            rest = self.interval - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)

    def next_advance(self) -> Future[int]:
        """A future resolved when ``cosigned_size`` next grows (never cancel it: share it
        through ``asyncio.shield``)."""
        with self._done:
            return self._advance

    # --- one round ----------------------------------------------------------------------
    def cosign_latest(self) -> int:
        """Ask every witness to cosign the newest checkpoint; store the lines. Returns
        how many witnesses cosigned it."""
        with self.store.read_sessions() as db, db.begin():
            latest = self.store.latest_checkpoint(db)
            if latest is None:
                return 0
            size, note = latest.size, latest.note
            asked = [e for e in self.endpoints if size not in (e.held, e.refused)]
            if not asked:
                return sum(e.held == size for e in self.endpoints)
            proofs: dict[int, list[bytes]] = {}
            wanted = {e.held or 0 for e in self.endpoints} | {self.cosigned_size}
            for old in wanted:
                if 0 < old < size:
                    proofs[old] = self.store.consistency_proof(db, old, size)

        def proof_for(old: int) -> list[bytes] | None:
            if old == 0 or old == size:
                return []
            if old > size:
                return None
            if old not in proofs:
                with self.store.read_sessions() as db, db.begin():
                    proofs[old] = self.store.consistency_proof(db, old, size)
            return proofs[old]

        futures = [
            self._pool.submit(self._ask, endpoint, size, note, proof_for) for endpoint in asked
        ]
        lines = [(e, line) for e, f in zip(asked, futures, strict=True) if (line := f.result())]
        self.rounds += 1
        if lines:
            add_cosignatures(
                self.store, size, [(e.witness.name, line) for e, line in lines], int(self.clock())
            )
        if sum(e.held == size for e in self.endpoints) >= self.policy:
            with self._done:
                advanced = size > self.cosigned_size
                self.cosigned_size = max(self.cosigned_size, size)
                self._done.notify_all()
                if advanced:
                    done, self._advance = self._advance, Future()
            if advanced:
                done.set_result(size)
        return len(lines)

    def _ask(
        self,
        endpoint: WitnessEndpoint,
        size: int,
        note: str,
        proof_for: Callable[[int], list[bytes] | None],
    ) -> str | None:
        name = endpoint.witness.name
        for _attempt in range(2):
            old = endpoint.held or 0
            proof = proof_for(old)
            if proof is None:
                log.warning("witness %s holds size %d, above the log's %d", name, old, size)
                return None
            try:
                status, content_type, body = endpoint.post(
                    render_add_checkpoint(old, proof, note), self.timeout_ms
                )
            except (OSError, http.client.HTTPException) as exc:
                log.warning("witness %s cannot be reached: %s", name, exc)
                return None
            if status == 200:
                return self._accept(endpoint, size, note, body)
            if status == 409 and content_type.startswith(SIZE_CONTENT_TYPE):
                try:
                    held = int(body.decode("ascii").strip())
                except ValueError:
                    log.warning("witness %s answered 409 without a size", name)
                    return None
                if held == old:
                    log.warning("witness %s refuses size %d: another root (a fork?)", name, size)
                    endpoint.refused = size
                    return None
                endpoint.held = held
                continue
            detail = body[:300].decode("utf-8", "replace").strip()
            log.warning("witness %s refused size %d with %d: %s", name, size, status, detail)
            endpoint.refused = size
            return None
        return None

    def _accept(self, endpoint: WitnessEndpoint, size: int, note: str, body: bytes) -> str | None:
        """The witness's own line of the 200 answer, verified; other lines ignored."""
        name = endpoint.witness.name
        try:
            parsed = parse_note(note + body.decode("utf-8"))
        except (NoteError, UnicodeDecodeError) as exc:
            log.warning("witness %s answered lines that are not signatures: %s", name, exc)
            return None
        for signature in parsed.signatures:
            if (signature.name, signature.key_id) != (name, endpoint.witness.key_id):
                continue
            try:
                endpoint.witness.timestamp_of(parsed.text, signature)
            except NoteError as exc:
                log.warning("witness %s sent a cosignature that fails: %s", name, exc)
                return None
            endpoint.held = size
            return signature.line()
        log.warning("witness %s answered without its cosignature", name)
        return None
