"""Credentials: a blind signature, once per eligible voter and election.

docs/protocol.md, "Credentials". A voter proves who they are (a resident's account,
an e-mail on the roll, or a one-time access code) and sends a blinded message; the
server blind-signs it with the election's RSA key and logs ``credential.issued`` with
an HMAC commitment to the voter (never the voter's identity). The issuance is recorded
by primary key (election, voter), so a second credential is refused in the same work
item; the same request again (its answer was lost) gets the same answer. Blind signing
runs in the caller's thread; the sequencer does one read and one insert.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from audit.core.canonical import b64url_decode, b64url_encode
from audit.services.store import BatchLog, insert_new
from ballot.core import kinds
from ballot.core.ballot import check_window
from ballot.core.blind import blind_sign
from ballot.core.choices import BallotConflict
from ballot.core.config import ElectionConfig
from ballot.services.errors import (
    BadCredentialRequest,
    ElectionStateConflict,
    VoterNotAuthenticated,
    VoterNotEligible,
)
from ballot.services.lifecycle import ElectionLifecycle, batch_status
from ballot.services.models import CredentialIssuance, RollEntry
from ballot.services.roll import code_hash

__all__ = ["CredentialIssuer", "Voter"]

CREDENTIAL_ISSUANCE = CredentialIssuance.__table__
# Who is on the roll: by access code (its hash) or by e-mail; statements built once.
_ROLL_BY_CODE = select(RollEntry.voter_ref).where(
    RollEntry.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    RollEntry.code_hash == bindparam("key"),  # type: ignore[arg-type]
)
_ROLL_BY_EMAIL = select(RollEntry.voter_ref).where(
    RollEntry.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    RollEntry.email == bindparam("key"),  # type: ignore[arg-type]
)


class _AlreadyIssued(Exception):
    """Inside the sequencer: this voter already has a credential for this election."""


@dataclass(frozen=True)
class Voter:
    """Who asks for a credential: a logged-in account or the holder of an access code."""

    public_id: str | None = None
    email: str | None = None
    role: str | None = None
    district: str | None = None
    access_code: str | None = None


class CredentialIssuer:
    """Who may have a credential, and issuing it (once) in the log."""

    def __init__(self, elections: ElectionLifecycle, *, commitment_key: bytes) -> None:
        self.elections = elections
        self.commitment_key = commitment_key

    def voter_key(self, db: Session, config: ElectionConfig, voter: Voter) -> str:
        eligibility = config.eligibility
        if voter.access_code is not None:
            if not eligibility.access_codes:
                raise VoterNotEligible("not_eligible", "This election does not use access codes.")
            ref = (
                db.connection()
                .execute(
                    _ROLL_BY_CODE, {"election_id": config.id, "key": code_hash(voter.access_code)}
                )
                .scalar()
            )
            if ref is None:
                raise VoterNotEligible("bad_access_code", "This access code is not valid.")
            return f"roll:{ref}"
        if voter.public_id is None:
            raise VoterNotAuthenticated("not_authenticated", "Log in or give an access code.")
        if eligibility.roll and voter.email:
            ref = (
                db.connection()
                .execute(_ROLL_BY_EMAIL, {"election_id": config.id, "key": voter.email.lower()})
                .scalar()
            )
            if ref is not None:
                return f"roll:{ref}"
        if eligibility.residents and voter.role == "resident" and voter.district == config.district:
            return f"user:{voter.public_id}"
        raise VoterNotEligible(
            "not_eligible", "You are not on the list of voters of this election."
        )

    def commitment(self, election_hash: str, voter_key: str) -> str:
        message = bytes.fromhex(election_hash) + voter_key.encode()
        return hmac.new(self.commitment_key, message, hashlib.sha256).hexdigest()

    def issue_credential(self, election_id: str, voter: Voter, blinded_message: str) -> str:
        """Blind-sign the voter's request once; return the blind signature (base64url)."""
        # One read on the common path (the voter's roll entry, if any): the election's
        # state is checked where it counts, in the sequencer, and a second credential is
        # refused there by the primary key.
        with self.elections.read() as db:
            live = self.elections.live(db, election_id)
            try:
                check_window(live.manifest, self.elections.clock())
            except BallotConflict as exc:
                raise ElectionStateConflict(exc.code, exc.detail) from None
            key = self.voter_key(db, live.manifest, voter)
        try:
            blinded = b64url_decode(blinded_message)
        except ValueError:
            raise BadCredentialRequest("bad_request", "blinded_message is not base64url.") from None
        blinded_hash = hashlib.sha256(blinded).hexdigest()
        signature = bytes(blind_sign(live.signing_key, blinded))
        commitment = self.commitment(live.hash, key)

        def work(wdb: Session, log: BatchLog) -> None:
            # A narrow work item (audit.store): one read, one insert that writes nothing
            # for a voter who has a credential (the primary key).
            if batch_status(wdb, log, election_id) != "open":
                raise ElectionStateConflict("not_open", "Voting is not open in this election.")
            appended = log.append(
                kinds.CREDENTIAL_ISSUED, {"election": live.hash, "commitment": commitment}
            )
            row = {
                "election_id": election_id,
                "voter_key": key,
                "blinded_hash": blinded_hash,
                "blind_signature": signature,
                "seq": appended.seq,
            }
            if not insert_new(wdb, CREDENTIAL_ISSUANCE, row, ("election_id", "voter_key")):
                raise _AlreadyIssued

        try:
            self.elections.sequencer.run(work, savepoint=False)
        except _AlreadyIssued:
            with self.elections.read() as db:
                previous = db.get(CredentialIssuance, (election_id, key))
            # The same request again (its answer was lost) gets the same answer.
            if previous is not None and hmac.compare_digest(previous.blinded_hash, blinded_hash):
                return b64url_encode(previous.blind_signature)
            raise ElectionStateConflict(
                "already_issued", "You already have a credential for this election."
            ) from None
        return b64url_encode(signature)
