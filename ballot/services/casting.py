"""Casting: a checked ballot into the log, and the receipt that proves it is there.

docs/protocol.md §7. The ballot's checks (its election and version, the window, the
token, the signature, the seal and the choices: ``ballot.core.ballot.check_ballot``) run
in the caller's thread without the database; the sequencer then only refuses a ballot
after the close, a second ballot where re-voting is not allowed, and (version 2) a
ballot that is not its credential's next one (``wrong_counter``: an older ballot after a
newer one, a second ballot with the same number, a number skipped), and writes
``ballot.cast``. In an election with trustees the server holds no sealing key, so the
seal is checked for its shape only and the choices are first read at the count
(docs/protocol.md §14). The same ballot sent again is not logged twice: it gets its first
receipt back. ``next_counter`` tells a client that lost its count the number its
credential's next ballot must carry (docs/protocol.md §7.11).
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.core.canonical import CanonicalError, b64url_decode, canonical_bytes
from audit.core.note import parse_note
from audit.services.cosigner import served_checkpoint
from audit.services.store import BatchLog, Committed, insert_new
from ballot.core import kinds
from ballot.core.ballot import ballot_json, check_ballot, parse_ballot
from ballot.core.choices import BallotConflict, BallotRejected
from ballot.core.config import parse_time
from ballot.services.lifecycle import ElectionLifecycle, LiveElection, batch_status
from ballot.services.models import CastBallot
from kernel.markers import N_

__all__ = ["AlreadyCast", "BallotBox", "NextCounter", "PendingCast", "Receipt"]

CAST_BALLOT = CastBallot.__table__
# A credential's ballots: their elections and digests. Read in the sequencer for every
# ballot, so it goes to the driver as plain SQL (no ORM), and it names the credential
# alone: with the election too, SQLite's planner picks the (election_id, digest) index
# and reads every ballot of the election instead of the credential's few.
_HISTORY_SQL = {
    mark: f"SELECT election_id, digest FROM cast_ballot WHERE credential = {mark}"
    for mark in ("?", "%s")
}


def _history(wdb: Session, election_id: str, credential: str) -> list[str]:
    """The digests of the credential's ballots in the election, in no order. The server
    accepts a version-2 ballot only as number len + 1, so their number is the
    credential's last counter."""
    conn = wdb.connection()
    sql = _HISTORY_SQL["%s" if conn.dialect.name == "postgresql" else "?"]
    rows = conn.exec_driver_sql(sql, (credential,))
    return [digest for election, digest in rows if election == election_id]


WRONG_COUNTER = N_(
    "This ballot is not its credential's next one: ask the server for the credential's "
    "next counter, then seal and sign the ballot again with it."
)


class AlreadyCast(Exception):
    """Inside the sequencer: this exact ballot is in the log already."""


class Receipt(msgspec.Struct, frozen=True):
    """What a voter keeps: where the ballot is and a proof that the log holds it."""

    election: str
    seq: int
    leaf_hash: str
    checkpoint: str
    size: int
    proof: list[str]
    ballot_digest: str


class NextCounter(msgspec.Struct, frozen=True):
    """The counter a credential's next ballot must carry (docs/protocol.md §7.11)."""

    credential: str
    next: int


@dataclass(frozen=True)
class PendingCast:
    """A checked ballot handed to the sequencer; ``future`` resolves once it is durable."""

    live: LiveElection
    digest: str
    future: Future[Committed[tuple[int, bytes]]]


class BallotBox:
    """Casting ballots in open elections and answering with their receipts."""

    def __init__(self, elections: ElectionLifecycle) -> None:
        self.elections = elections

    def submit_cast(self, live: LiveElection, ballot_data: Any, signature: Any) -> PendingCast:
        """Check the ballot (raising its 4xx error) and hand it to the sequencer.

        Pure computation and no database, so that an asynchronous caller can run it on
        its event loop; the future raises ``AlreadyCast`` for a ballot sent again."""
        election_id = live.id
        ballot = parse_ballot(ballot_data)
        if not isinstance(signature, str):
            raise BallotRejected("bad_signature", "the signature must be a base64url string")
        check_ballot(
            live.manifest,
            ballot,
            signature,
            live.sealing_private,
            self.elections.clock(),
            credential_key=live.credential_key,
            election_hash=live.hash,
        )
        body = {"ballot": ballot_json(ballot), "signature": signature}
        digest = hashlib.sha256(canonical_bytes(body)).hexdigest()
        revoting = live.manifest.revoting
        closes_at = parse_time(live.manifest.window.closes_at)
        counter = ballot.counter  # None in a version-1 election

        def work(wdb: Session, log: BatchLog) -> tuple[int, bytes]:
            # A narrow work item (audit.store): reads, then one insert that writes
            # nothing for a ballot already cast; Core statements, no ORM objects.
            if batch_status(wdb, log, election_id) != "open" or self.elections.clock() >= closes_at:
                raise BallotConflict("closed", "voting has closed in this election")
            earlier = (
                _history(wdb, election_id, ballot.credential)
                if counter is not None or not revoting
                else []
            )
            if not revoting and earlier:
                raise BallotConflict(
                    "already_voted", "this credential has voted; this election allows no re-vote"
                )
            if counter is not None:
                if digest in earlier:
                    raise AlreadyCast  # sent again: its first receipt, nothing appended
                if counter != len(earlier) + 1:
                    raise BallotConflict("wrong_counter", WRONG_COUNTER)
            appended = log.append(kinds.BALLOT_CAST, body)
            row = {
                "election_id": election_id,
                "credential": ballot.credential,
                "digest": digest,
                "seq": appended.seq,
                "leaf_hash": appended.leaf_hash,
                "checkpoint_size": appended.seq + 1,
            }
            # The same ballot again (the digest is unique): its entry is not repeated.
            if not insert_new(wdb, CAST_BALLOT, row, ("election_id", "digest")):
                raise AlreadyCast
            return appended.seq, appended.leaf_hash

        return PendingCast(live, digest, self.elections.sequencer.submit(work, savepoint=False))

    def next_counter(self, election_id: str, credential: str) -> NextCounter:
        """The counter the credential's next ballot must carry: one more than the number
        of its ballots in the log (a client that lost its count, e.g. on a new device,
        asks; the credential is public in the log once it has voted)."""
        with self.elections.read() as db:
            row = self.elections.get(db, election_id)
            if row.manifest_hash is None:
                raise BallotConflict("not_open", "the election has not been opened")
            try:
                raw = b64url_decode(credential)
            except CanonicalError:
                raw = b""
            if len(raw) != 32:
                raise BallotRejected(
                    "bad_credential", "the credential is not a base64url Ed25519 key"
                )
            cast = _history(db, election_id, credential)
            return NextCounter(credential=credential, next=len(cast) + 1)

    def receipt(self, pending: PendingCast, committed: Committed[tuple[int, bytes]]) -> Receipt:
        """The receipt of a ballot just appended."""
        ready = self.cached_receipt(pending, committed)
        if ready is not None:
            return ready
        seq, leaf = committed.result
        size, note = committed.checkpoint.size, committed.checkpoint.note
        with self.elections.store.read_sessions() as rdb:
            proof = self.elections.store.inclusion_proof(rdb, seq, size)
        return self._receipt(pending, seq, leaf, size, note, proof)

    def cached_receipt(
        self, pending: PendingCast, committed: Committed[tuple[int, bytes]]
    ) -> Receipt | None:
        """The receipt if its proof's nodes are all in this process's cache (the usual
        case: the batch that appended the ballot has just added them), else None."""
        seq, leaf = committed.result
        size, note = committed.checkpoint.size, committed.checkpoint.note
        proof = self.elections.store.inclusion_proof_cached(seq, size)
        if proof is None:
            return None
        return self._receipt(pending, seq, leaf, size, note, proof)

    def resent_receipt(self, pending: PendingCast) -> Receipt:
        """A ballot sent again gets its first receipt back, proven at the latest
        checkpoint."""
        with self.elections.store.read_sessions() as rdb:
            same = rdb.scalars(
                select(CastBallot).where(
                    CastBallot.election_id == pending.live.id,  # type: ignore[arg-type]
                    CastBallot.digest == pending.digest,  # type: ignore[arg-type]
                )
            ).first()
            assert same is not None
            latest = self.elections.store.latest_checkpoint(rdb)
            assert latest is not None
            proof = self.elections.store.inclusion_proof(rdb, same.seq, latest.size)
        return self._receipt(
            pending, same.seq, bytes(same.leaf_hash), latest.size, latest.note, proof
        )

    def witnessed_receipt(self, pending: PendingCast, receipt: Receipt, policy: int) -> Receipt:
        """``receipt`` proven again in the served checkpoint (docs/protocol.md §15.7):
        the newest that ``policy`` witnesses cosigned, with their lines, once it covers
        the ballot; the receipt unchanged if it does not."""
        store = self.elections.store
        with store.read_sessions() as rdb:
            note = served_checkpoint(store, rdb, policy)
            if note is None:
                return receipt
            size = int(parse_note(note).text.split("\n")[1])
            if size <= receipt.seq:
                return receipt
            proof = store.inclusion_proof_cached(receipt.seq, size)
            if proof is None:
                proof = store.inclusion_proof(rdb, receipt.seq, size)
        return self._receipt(
            pending, receipt.seq, bytes.fromhex(receipt.leaf_hash), size, note, proof
        )

    @staticmethod
    def _receipt(
        pending: PendingCast, seq: int, leaf: bytes, size: int, note: str, proof: list[bytes]
    ) -> Receipt:
        return Receipt(
            election=pending.live.hash,
            seq=seq,
            leaf_hash=leaf.hex(),
            checkpoint=note,
            size=size,
            proof=[p.hex() for p in proof],
            ballot_digest=pending.digest,
        )
