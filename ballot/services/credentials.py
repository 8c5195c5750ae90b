"""Credentials: a blind signature, once per eligible voter and election.

docs/protocol.md §6. A voter proves who they are and sends a blinded message; the server
blind-signs it with the election's RSA key and logs ``credential.issued`` with the
voter's commitment (never the voter's identity). Every way in resolves to the one voter
key of a person (§6.6):

- an access code → its roll entry, ``roll:<voter id>``;
- an account whose **confirmed** e-mail address is a roll entry's → that entry,
  ``roll:<voter id>`` (the same key as the entry's code: one credential between them);
- an account verified by staff as a resident of the district → ``user:<public id>``.

An election admits its roll or verified residents, never both (``mixed_eligibility``),
so no person has a roll key and a user key in one election; one document verifies one
account. The key must then be in the electorate committed when the election opened, or
added since with a logged reason (§6.11; ``ElectorateMember``).

The issuance is recorded by primary key (election, voter), so a second credential is
refused in the same work item; the same request again (its answer was lost) gets the
same answer. Blind signing runs in the caller's thread; the sequencer does one read and
one insert.
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
from ballot.services.electorate import roll_key, user_key
from ballot.services.errors import (
    BadCredentialRequest,
    ElectionStateConflict,
    VoterNotAuthenticated,
    VoterNotEligible,
)
from ballot.services.lifecycle import ElectionLifecycle, LiveElection, batch_status
from ballot.services.models import CredentialIssuance, ElectorateMember, RollEntry
from ballot.services.roll import code_hash
from kernel.accounts.models import ResidentVerification, User

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
_MEMBER = select(ElectorateMember.commitment).where(
    ElectorateMember.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    ElectorateMember.voter_key == bindparam("key"),  # type: ignore[arg-type]
)
_VERIFIED = (
    select(ResidentVerification.district)
    .join(User, User.id == ResidentVerification.user_id)  # type: ignore[arg-type]
    .where(User.public_id == bindparam("public_id"))  # type: ignore[arg-type]
)

NOT_VERIFIED = (
    "This election admits residents of its district whom staff verified before it "
    "opened (or added since, with a logged reason); your account is not among them."
)
NOT_CONFIRMED = (
    "Your e-mail address is on this election's voter roll, but it is not confirmed yet: "
    "follow the link we sent to it (or ask for a new one on your account page), then "
    "try again."
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
    # The account's owner followed the link sent to ``email``.
    email_confirmed: bool = False


class CredentialIssuer:
    """Who may have a credential, and issuing it (once) in the log."""

    def __init__(self, elections: ElectionLifecycle, *, commitment_key: bytes) -> None:
        self.elections = elections
        self.commitment_key = commitment_key

    def voter_key(self, db: Session, config: ElectionConfig, voter: Voter) -> str:
        """The one voter key of this person in this election (docs/protocol.md §6.6)."""
        eligibility = config.eligibility
        conn = db.connection()
        if voter.access_code is not None:
            if not eligibility.access_codes:
                raise VoterNotEligible("not_eligible", "This election does not use access codes.")
            ref = conn.execute(
                _ROLL_BY_CODE, {"election_id": config.id, "key": code_hash(voter.access_code)}
            ).scalar()
            if ref is None:
                raise VoterNotEligible("bad_access_code", "This access code is not valid.")
            return roll_key(ref)
        if voter.public_id is None:
            raise VoterNotAuthenticated("not_authenticated", "Log in or give an access code.")
        if eligibility.roll and voter.email:
            ref = conn.execute(
                _ROLL_BY_EMAIL, {"election_id": config.id, "key": voter.email.lower()}
            ).scalar()
            if ref is not None:
                if not voter.email_confirmed:
                    raise VoterNotEligible("email_not_confirmed", NOT_CONFIRMED)
                return roll_key(ref)
        if eligibility.residents and not (eligibility.roll or eligibility.access_codes):
            if config.eligibility.electorate is not None:
                # Membership (checked next) says whether staff verified this resident.
                return user_key(voter.public_id)
            # An election opened before electorates were committed: the verification
            # itself is looked up.
            district = conn.execute(_VERIFIED, {"public_id": voter.public_id}).scalar()
            if district == config.district:
                return user_key(voter.public_id)
            raise VoterNotEligible("not_eligible", NOT_VERIFIED)
        if eligibility.residents:
            raise VoterNotEligible("not_eligible", NOT_VERIFIED)
        raise VoterNotEligible(
            "not_eligible", "You are not on the list of voters of this election."
        )

    def member_commitment(self, db: Session, live: LiveElection, key: str) -> str:
        """The voter's commitment if ``key`` is in the election's electorate, else 403."""
        if live.manifest.eligibility.electorate is None:
            # Opened before electorates were committed (docs/protocol.md §12).
            return self.commitment(live.hash, key)
        found = db.connection().execute(_MEMBER, {"election_id": live.id, "key": key}).scalar()
        if found is None:
            detail = (
                NOT_VERIFIED
                if key.startswith("user:")
                else "You were not on this election's voter roll when it opened."
            )
            raise VoterNotEligible("not_in_electorate", detail)
        return str(found)

    def commitment(self, election_hash: str, voter_key: str) -> str:
        """The commitment of elections opened before electorates were committed."""
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
            commitment = self.member_commitment(db, live, key)
        try:
            blinded = b64url_decode(blinded_message)
        except ValueError:
            raise BadCredentialRequest("bad_request", "blinded_message is not base64url.") from None
        blinded_hash = hashlib.sha256(blinded).hexdigest()
        signature = bytes(blind_sign(live.signing_key, blinded))

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
