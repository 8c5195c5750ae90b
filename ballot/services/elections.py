"""Elections as the server runs them: one service for the HTTP API, the pages, the
command line, the results and the proposals' ballot link.

``ElectionService`` builds the election services on the same log, keys and clock and
passes each call on, so that its callers hold one object:

- ``ballot.services.lifecycle`` -- configure, open and close; summaries; the keys of an
  open election (``LiveElection``);
- ``ballot.services.roll`` -- the voter roll and one-time access codes, frozen at
  opening, and voters added to an open election (``electorate.added``);
- ``ballot.services.credentials`` -- who may vote, and issuing credentials;
- ``ballot.services.casting`` -- casting ballots and their receipts;
- ``ballot.services.secret_box`` -- an open election's secrets at rest;
- ``ballot.services.ceremony`` -- the key ceremony of an election with trustees;
- ``ballot.services.unsealing`` -- the trustees' key shares after the close, and the
  unsealing they allow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from audit.services.cosigner import Cosigner
from audit.services.sequencer import Sequencer
from audit.services.store import Committed, LogStore
from ballot.services.casting import BallotBox, NextCounter, PendingCast, Receipt
from ballot.services.ceremony import CeremonyView, TrusteeCeremony
from ballot.services.credentials import CredentialIssuer, Voter
from ballot.services.lifecycle import ElectionLifecycle, ElectionSummary, LiveElection, now
from ballot.services.models import Election
from ballot.services.roll import AddedVoters, RollPreview, VoterRoll
from ballot.services.secret_box import SecretBox
from ballot.services.unsealing import KeyShareAccepted, Unsealing

__all__ = ["ElectionService"]

# (voter_id, access code) pairs; named here because the class's ``list`` hides the type.
AccessCodes = list[tuple[str, str]]


class ElectionService:
    """The election services behind one object (see the module's list)."""

    def __init__(
        self,
        *,
        store: LogStore,
        sequencer: Sequencer,
        authority_key: Ed25519PrivateKey,
        secret_box: SecretBox,
        commitment_key: bytes,
        allow_test_keys: bool = False,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.lifecycle = ElectionLifecycle(
            store=store,
            sequencer=sequencer,
            authority_key=authority_key,
            secret_box=secret_box,
            allow_test_keys=allow_test_keys,
            clock=clock,
            commitment_key=commitment_key,
        )
        self.roll = VoterRoll(self.lifecycle)
        self.credentials = CredentialIssuer(self.lifecycle, commitment_key=commitment_key)
        self.ballot_box = BallotBox(self.lifecycle)
        self.ceremony = TrusteeCeremony()
        self.unsealing = Unsealing(self.lifecycle)
        self.store = store
        self.sequencer = sequencer
        self.authority_key = authority_key
        # Set by the wiring when the log has witnesses (docs/protocol.md §15.7).
        self.cosigner: Cosigner | None = None
        self.allow_test_keys = allow_test_keys

    # --- configuration, opening and closing (ballot.services.lifecycle) ------------------
    def create(self, db: Session, data: object) -> ElectionSummary:
        return self.lifecycle.create(db, data)

    def get(self, db: Session, election_id: str) -> Election:
        return self.lifecycle.get(db, election_id)

    def list(self, db: Session) -> list[ElectionSummary]:
        return self.lifecycle.list(db)

    def open(self, election_id: str) -> ElectionSummary:
        return self.lifecycle.open(election_id)

    def close(
        self, election_id: str, *, early: bool = False, reason: str | None = None
    ) -> ElectionSummary:
        return self.lifecycle.close(election_id, early=early, reason=reason)

    def manifest_view(self, db: Session, election_id: str) -> dict[str, Any]:
        return self.lifecycle.manifest_view(db, election_id)

    def live(self, db: Session, election_id: str) -> LiveElection:
        return self.lifecycle.live(db, election_id)

    def live_cached(self, election_id: str) -> LiveElection | None:
        return self.lifecycle.live_cached(election_id)

    def live_for(self, election_id: str) -> LiveElection:
        return self.lifecycle.live_for(election_id)

    # --- the roll and access codes (ballot.services.roll) --------------------------------
    def import_roll(self, db: Session, election_id: str, text: str) -> int:
        return self.roll.import_roll(db, election_id, text)

    def make_access_codes(self, db: Session, election_id: str) -> AccessCodes:
        return self.roll.make_access_codes(db, election_id)

    def preview_roll(self, db: Session, election_id: str, text: str) -> RollPreview:
        return self.roll.preview_roll(db, election_id, text)

    def roll_size(self, db: Session, election_id: str) -> int:
        return self.roll.roll_size(db, election_id)

    def codes_missing(self, db: Session, election_id: str) -> int:
        return self.roll.codes_missing(db, election_id)

    def add_voters(
        self,
        election_id: str,
        reason: str,
        *,
        roll: str | None = None,
        residents: Sequence[str] = (),
    ) -> AddedVoters:
        return self.roll.add_voters(election_id, reason, roll=roll, residents=residents)

    # --- credentials (ballot.services.credentials) ---------------------------------------
    def issue_credential(self, election_id: str, voter: Voter, blinded_message: str) -> str:
        return self.credentials.issue_credential(election_id, voter, blinded_message)

    # --- casting (ballot.services.casting) -----------------------------------------------
    def submit_cast(self, live: LiveElection, ballot_data: Any, signature: Any) -> PendingCast:
        return self.ballot_box.submit_cast(live, ballot_data, signature)

    def receipt(self, pending: PendingCast, committed: Committed[tuple[int, bytes]]) -> Receipt:
        return self.ballot_box.receipt(pending, committed)

    def cached_receipt(
        self, pending: PendingCast, committed: Committed[tuple[int, bytes]]
    ) -> Receipt | None:
        return self.ballot_box.cached_receipt(pending, committed)

    def resent_receipt(self, pending: PendingCast) -> Receipt:
        return self.ballot_box.resent_receipt(pending)

    def witnessed_receipt(self, pending: PendingCast, receipt: Receipt) -> Receipt:
        assert self.cosigner is not None
        return self.ballot_box.witnessed_receipt(pending, receipt, self.cosigner.policy)

    def next_counter(self, election_id: str, credential: str) -> NextCounter:
        return self.ballot_box.next_counter(election_id, credential)

    # --- trustees (ballot.services.ceremony, ballot.services.unsealing) -------------------
    def ceremony_view(self, db: Session, election_id: str) -> CeremonyView:
        return self.ceremony.view(db, election_id)

    def add_dealing(self, db: Session, election_id: str, data: object) -> int:
        return self.ceremony.add_dealing(db, election_id, data)

    def add_ack(self, db: Session, election_id: str, data: object) -> int:
        return self.ceremony.add_ack(db, election_id, data)

    def submit_key_share(self, election_id: str, data: object) -> KeyShareAccepted:
        return self.unsealing.submit_key_share(election_id, data)
