"""Casting: a checked ballot into the log, and the receipt that proves it is there.

docs/protocol.md, "Casting". The ballot's checks (its election, the window, the token,
the signature, the seal and the choices: ``ballot.core.ballot.check_ballot``) run in the
caller's thread without the database; the sequencer then only refuses a ballot after the
close, a second ballot where re-voting is not allowed, and writes ``ballot.cast``. The
same ballot sent again is not logged twice: it gets its first receipt back.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from audit.core.canonical import canonical_bytes
from audit.services.store import BatchLog, Committed, insert_new
from ballot.core import kinds
from ballot.core.ballot import ballot_json, check_ballot, parse_ballot
from ballot.core.choices import BallotConflict, BallotRejected
from ballot.core.config import parse_time
from ballot.services.lifecycle import ElectionLifecycle, LiveElection, batch_status
from ballot.services.models import CastBallot

__all__ = ["AlreadyCast", "BallotBox", "PendingCast", "Receipt"]

CAST_BALLOT = CastBallot.__table__
_VOTED = select(CastBallot.id).where(
    CastBallot.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    CastBallot.credential == bindparam("credential"),  # type: ignore[arg-type]
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

        def work(wdb: Session, log: BatchLog) -> tuple[int, bytes]:
            # A narrow work item (audit.store): reads, then one insert that writes
            # nothing for a ballot already cast; Core statements, no ORM objects.
            if batch_status(wdb, log, election_id) != "open" or self.elections.clock() >= closes_at:
                raise BallotConflict("closed", "voting has closed in this election")
            if (
                not revoting
                and wdb.execute(
                    _VOTED, {"election_id": election_id, "credential": ballot.credential}
                ).first()
                is not None
            ):
                raise BallotConflict(
                    "already_voted", "this credential has voted; this election allows no re-vote"
                )
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
