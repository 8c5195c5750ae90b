"""``veche witness serve``: an independent C2SP tlog-witness (docs/protocol.md §15.4–§15.6).

The witness is its own process with its own Ed25519 key and its own SQLite file; it
shares nothing with the log server but the HTTP request. Per log (by origin) it keeps
the latest checkpoint it cosigned. A request is decided by ``audit.core.witness.decide``
inside one ``BEGIN IMMEDIATE`` transaction, and the new state is written with a
compare-and-swap on the size and root it was decided against, so two concurrent requests
(threads or processes) cannot both advance from one state: the second sees the first's
state and is answered 409. Refused requests whose checkpoint the log did sign
(409 and 422) are kept as evidence of the log's misbehaviour.

The HTTP side is the standard library's threading server (HTTP/1.1 keep-alive):
``POST /add-checkpoint`` and, for people, ``GET /`` with the witness's verifier key.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.cosignature import ALG_COSIGNATURE_V1, cosign, witness_key, witness_key_id
from audit.core.errors import NoteError
from audit.core.note import Verifier, b64std_decode, b64std_encode, public_key_bytes
from audit.core.witness import Held, Refusal, decide, parse_add_checkpoint

__all__ = ["WitnessKey", "WitnessService", "generate_key", "load_key", "make_server"]

log = logging.getLogger("veche.witness")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_log (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_evidence (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    status INTEGER NOT NULL,
    detail TEXT NOT NULL,
    request BLOB NOT NULL,
    at INTEGER NOT NULL
);
"""

KEY_PREFIX = "PRIVATE+KEY+"


@dataclass(frozen=True)
class WitnessKey:
    """A witness's name and Ed25519 private key."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def vkey(self) -> str:
        return witness_key(self.name, public_key_bytes(self.private_key))

    def to_text(self) -> str:
        """``PRIVATE+KEY+<name>+<hex key ID>+base64(0x04 || 32-byte seed)`` (§15.6)."""
        seed = self.private_key.private_bytes_raw()
        kid = witness_key_id(self.name, public_key_bytes(self.private_key))
        return (
            f"{KEY_PREFIX}{self.name}+{kid.hex()}+"
            f"{b64std_encode(bytes([ALG_COSIGNATURE_V1]) + seed)}\n"
        )


def generate_key(name: str) -> WitnessKey:
    key = WitnessKey(name, Ed25519PrivateKey.generate())
    witness_key(name, public_key_bytes(key.private_key))  # checks the name
    return key


def load_key(text: str) -> WitnessKey:
    """Read a key written by ``WitnessKey.to_text``; ``NoteError`` says what is wrong."""
    text = text.strip()
    if not text.startswith(KEY_PREFIX):
        raise NoteError("the witness key file does not start with PRIVATE+KEY+", code="bad_key")
    parts = text[len(KEY_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise NoteError("the witness key file is not PRIVATE+KEY+name+id+key", code="bad_key")
    name, kid_hex, seed_b64 = parts
    raw = b64std_decode(seed_b64, "witness private key")
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
        raise NoteError("the witness key is not an Ed25519 cosignature key", code="bad_key")
    key = WitnessKey(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if witness_key_id(name, public_key_bytes(key.private_key)).hex() != kid_hex:
        raise NoteError("the witness key's ID does not match its name and key", code="bad_key")
    return key


class WitnessService:
    """The witness's state in SQLite and its answer to ``add-checkpoint``."""

    def __init__(
        self,
        db_path: Path,
        key: WitnessKey,
        logs: Mapping[str, Sequence[Verifier]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db_path = db_path
        self.key = key
        self.logs = dict(logs)
        self.clock = clock
        self._local = threading.local()
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def held(self, origin: str) -> Held | None:
        row = (
            self._conn()
            .execute("SELECT size, root FROM witness_log WHERE origin = ?", (origin,))
            .fetchone()
        )
        return None if row is None else Held(int(row[0]), bytes(row[1]))

    def add_checkpoint(self, body: bytes) -> tuple[int, str, bytes]:
        """(status, content type, body) of the answer to an ``add-checkpoint`` body."""
        try:
            request = parse_add_checkpoint(body)
        except Refusal as refusal:
            return refusal.status, refusal.content_type, refusal.body
        origin = request.checkpoint.origin
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            held = self.held(origin)
            try:
                checkpoint = decide(request, self.logs, held)
            except Refusal as refusal:
                if refusal.status in (409, 422):
                    conn.execute(
                        "INSERT INTO witness_evidence (origin, status, detail, request, at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (origin, refusal.status, refusal.detail, body, int(self.clock())),
                    )
                conn.execute("COMMIT")
                log.info("refused %s size %s: %s", origin, request.checkpoint.size, refusal)
                return refusal.status, refusal.content_type, refusal.body
            now = int(self.clock())
            note = request.note.text
            if held is None:
                cursor = conn.execute(
                    "INSERT INTO witness_log (origin, size, root, note, at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (origin) DO NOTHING",
                    (origin, checkpoint.size, checkpoint.root, note, now),
                )
            else:
                cursor = conn.execute(
                    "UPDATE witness_log SET size = ?, root = ?, note = ?, at = ? "
                    "WHERE origin = ? AND size = ? AND root = ?",
                    (checkpoint.size, checkpoint.root, note, now, origin, held.size, held.root),
                )
            if cursor.rowcount != 1:  # pragma: no cover - BEGIN IMMEDIATE serializes
                conn.execute("ROLLBACK")
                current = self.held(origin)
                size = 0 if current is None else current.size
                return 409, "text/x.tlog.size", f"{size}\n".encode("ascii")
            line = cosign(self.key.private_key, self.key.name, note, now).line()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return 200, "text/plain; charset=utf-8", line.encode("utf-8")


def _handler(service: WitnessService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "veche-witness/1"
        # Headers and body are two writes: without TCP_NODELAY the body waits for the
        # client's delayed acknowledgement (40 ms on Linux) on a kept-alive connection.
        disable_nagle_algorithm = True

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/":
                self._answer(404, "text/plain; charset=utf-8", b"not found\n")
                return
            text = f"{service.key.vkey}\n"
            self._answer(200, "text/plain; charset=utf-8", text.encode("utf-8"))

        def do_POST(self) -> None:
            if self.path != "/add-checkpoint":
                self._answer(404, "text/plain; charset=utf-8", b"not found\n")
                return
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._answer(411, "text/plain; charset=utf-8", b"Content-Length required\n")
                return
            if not 0 <= length <= 64 * 1024:
                self.close_connection = True
                self._answer(413, "text/plain; charset=utf-8", b"request too large\n")
                return
            body = self.rfile.read(length)
            try:
                status, content_type, answer = service.add_checkpoint(body)
            except Exception:  # pragma: no cover - logged, answered 500
                log.exception("add-checkpoint failed")
                status, content_type, answer = 500, "text/plain", b"internal error\n"
            self._answer(status, content_type, answer)

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

    return Handler


def make_server(service: WitnessService, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), _handler(service))
    server.daemon_threads = True
    return server
