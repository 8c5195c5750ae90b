"""The log over HTTP: checkpoint, key, entries, proofs, and public notices.

Hashes are lowercase hex; the entries endpoint serves each entry's exact canonical
bytes (what was hashed), one per line, so auditors hash what they receive.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from litestar import Controller, Response, get, post
from litestar.params import FromQuery, JSONBody

from audit.core.entry import NoticePublished
from audit.http.state import LogState
from audit.services.cosigner import served_checkpoint
from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog, LogStore
from kernel.errors import InvalidInput, NotFound
from kernel.web import DB, requires_role

MAX_PAGE = 1000


class LogKey(msgspec.Struct, frozen=True):
    origin: str
    public_key: str
    verifier_key: str


class WitnessPolicy(msgspec.Struct, frozen=True):
    """The log's witnesses and how many of them its served checkpoint waits for (§15.7)."""

    witnesses: list[str]
    policy: int


class InclusionProof(msgspec.Struct, frozen=True):
    seq: int
    size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(msgspec.Struct, frozen=True):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class NoticeIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    title: str
    text: str
    lang: str = "en"


class AppendReceipt(msgspec.Struct, frozen=True):
    seq: int
    leaf_hash: str
    checkpoint: str


def _nonnegative(name: str, value: int) -> int:
    if value < 0:
        raise InvalidInput(f"The parameter {name!r} must be 0 or more.", code="bad_parameter")
    return value


class LogController(Controller):
    path = "/api/v1/log"
    tags: ClassVar[list[str]] = ["audit log"]

    @get("/checkpoint", operation_id="logCheckpoint", media_type="text/plain", sync_to_thread=True)
    def checkpoint(self, db: DB, state: LogState) -> Response[str]:
        """The latest signed checkpoint (C2SP tlog-checkpoint signed note) with its
        witnesses' cosignature lines (docs/protocol.md §15.7): the newest checkpoint that
        ``witness_policy`` witnesses cosigned, or the newest without witnesses."""
        store: LogStore = state.log_store
        policy = state.settings.witness_policy if state.settings.witnesses else 0
        with db.begin():
            note = served_checkpoint(store, db, policy)
        if note is None:
            raise NotFound("The log has no checkpoint yet.", code="empty_log")
        return Response(note, media_type="text/plain; charset=utf-8")

    @get("/key", operation_id="logKey")
    async def key(self, state: LogState) -> LogKey:
        """The log's origin, its raw Ed25519 public key and the note verifier key."""
        info = state.log_store.key_info
        return LogKey(info.origin, info.public_key, info.verifier_key)

    @get("/witnesses", operation_id="logWitnesses")
    async def witnesses(self, state: LogState) -> WitnessPolicy:
        """The verifier keys of the witnesses this log asks to cosign, and its policy k
        (docs/protocol.md §15.7): what a page requires unless its user pins others."""
        keys = [entry.split(" ", 1)[1].strip() for entry in state.settings.witnesses]
        policy = state.settings.witness_policy if keys else 0
        return WitnessPolicy(witnesses=keys, policy=policy)

    @get(
        "/entries",
        operation_id="logEntries",
        media_type="application/x-ndjson",
        sync_to_thread=True,
    )
    def entries(
        self, db: DB, state: LogState, start: FromQuery[int] = 0, end: FromQuery[int | None] = None
    ) -> Response[bytes]:
        """Entries [start, end) as NDJSON, at most 1000 per page, exact hashed bytes."""
        store: LogStore = state.log_store
        _nonnegative("start", start)
        with db.begin():
            size = store.size(db)
            if end is not None:
                _nonnegative("end", end)
                if end < start:
                    raise InvalidInput("'end' must not be smaller than 'start'.", code="bad_range")
                if end - start > MAX_PAGE:
                    raise InvalidInput(
                        f"At most {MAX_PAGE} entries per request; page with start and end.",
                        code="page_too_large",
                    )
            if start >= size:
                raise NotFound(
                    f"The log has {size} entries; there is no entry {start}.",
                    code="out_of_range",
                )
            end = start + MAX_PAGE if end is None else end
            end = min(end, size)
            lines = store.entries(db, start, end)
        return Response(
            b"".join(line + b"\n" for line in lines),
            media_type="application/x-ndjson",
            headers={"X-Log-Size": str(size)},
        )

    @get("/proof/inclusion", operation_id="logInclusionProof", sync_to_thread=True)
    def inclusion(
        self, db: DB, state: LogState, seq: FromQuery[int], size: FromQuery[int | None] = None
    ) -> InclusionProof:
        """Proof that entry ``seq`` is in the tree of ``size`` entries (RFC 9162 §2.1.3)."""
        store: LogStore = state.log_store
        _nonnegative("seq", seq)
        with db.begin():
            current = store.size(db)
            size = current if size is None else size
            if size < 1:
                raise InvalidInput("'size' must be 1 or more.", code="bad_parameter")
            if size > current:
                raise NotFound(f"The log has only {current} entries.", code="out_of_range")
            if seq >= size:
                raise NotFound(
                    f"Entry {seq} is not in a tree of {size} entries.", code="out_of_range"
                )
            leaf = store.leaf(db, seq)
            proof = store.inclusion_proof(db, seq, size)
            root = store.root(db, size)
        assert leaf is not None
        return InclusionProof(seq, size, leaf.hex(), root.hex(), [p.hex() for p in proof])

    @get("/proof/consistency", operation_id="logConsistencyProof", sync_to_thread=True)
    def consistency(
        self, db: DB, state: LogState, first: FromQuery[int], second: FromQuery[int | None] = None
    ) -> ConsistencyProof:
        """Proof that the tree of ``first`` entries is a prefix of ``second`` (§2.1.4)."""
        store: LogStore = state.log_store
        if first < 1:
            raise InvalidInput(
                "'first' must be 1 or more: a proof from the empty tree is not defined.",
                code="bad_parameter",
            )
        with db.begin():
            current = store.size(db)
            second = current if second is None else second
            if second < first:
                raise InvalidInput("'second' must not be smaller than 'first'.", code="bad_range")
            if second > current:
                raise NotFound(f"The log has only {current} entries.", code="out_of_range")
            proof = store.consistency_proof(db, first, second)
            first_root = store.root(db, first)
            second_root = store.root(db, second)
        return ConsistencyProof(
            first, second, first_root.hex(), second_root.hex(), [p.hex() for p in proof]
        )

    @post(
        "/notices",
        operation_id="publishNotice",
        status_code=201,
        sync_to_thread=True,
        guards=[requires_role("admin")],
    )
    def publish_notice(self, data: JSONBody[NoticeIn], state: LogState) -> AppendReceipt:
        """Publish a public notice into the log (admins only)."""
        body = {"title": data.title, "text": data.text, "lang": data.lang}
        try:
            msgspec.convert(body, NoticePublished)
        except msgspec.ValidationError as exc:
            raise InvalidInput(f"The notice is not valid: {exc}.", code="invalid_notice") from None
        sequencer: Sequencer = state.sequencer

        def work(_db: Any, log: BatchLog) -> None:
            log.append("notice.published", body)

        committed = sequencer.run(work)
        entry = committed.entries[0]
        return AppendReceipt(entry.seq, entry.leaf_hash.hex(), committed.checkpoint.note)
