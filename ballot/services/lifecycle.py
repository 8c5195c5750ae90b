"""An election's life on the server: configured as a draft, opened, closed.

docs/protocol.md, "Elections and ballots" ("Manifest"). Opening freezes the
configuration into the signed manifest and makes the election's keys; their secret
halves are kept sealed in the database (``ballot.services.secret_box``) and decoded once
per process into a ``LiveElection``, which issuing credentials and casting use.

Every state change that the public must be able to check goes through the log's
sequencer as one work item, so the change and its entry commit together
(``audit.store``): opening writes ``election.opened``; closing writes
``election.closed`` then ``election.unsealed`` (in an election with trustees only
``election.closed``: the trustees' key shares unseal it, ``ballot.services.unsealing``,
docs/protocol.md §14; and it opens only once their key ceremony is complete,
``ballot.services.ceremony``). Closing before the window's
``closes_at`` is refused unless the administrator says it is an early close and gives
a reason, which ``election.closed`` then carries (docs/protocol.md §9.1): the public can
see that voting was cut short and why. Because casting and closing are
serialized by the sequencer, no ballot can follow the close in the log. The CPU-heavy
parts (RSA key generation) run in the caller's thread before the work item is
submitted, so the sequencer only does cheap database work.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.core.canonical import b64url_encode, canonical_bytes
from audit.core.entry import parse_at
from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog, LogStore
from ballot.core import kinds, seal
from ballot.core.blind import BlindSigningKey, generate_private_key
from ballot.core.config import Electorate, parse_config, parse_time, to_json
from ballot.core.config_checks import check_config
from ballot.core.electorate import electorate_digest
from ballot.core.manifest import (
    Manifest,
    build_manifest,
    load_credential_key,
    manifest_dict,
    manifest_hash,
    parse_manifest,
    sign_manifest,
    trustees_of,
)
from ballot.services.ceremony import configured_trustees, opening_keys
from ballot.services.electorate import gather_electorate
from ballot.services.errors import ElectionNotFound, ElectionStateConflict
from ballot.services.models import Election, ElectorateMember
from ballot.services.secret_box import ElectionSecrets, SecretBox
from kernel.errors import InvalidInput
from kernel.markers import N_

__all__ = [
    "ElectionLifecycle",
    "ElectionSummary",
    "LiveElection",
    "batch_status",
    "now",
    "summary",
]

_STATUS = select(Election.status).where(Election.id == bindparam("id"))  # type: ignore[arg-type]

WINDOW_STILL_OPEN = N_(
    "Voting is open until the end of its window. To close the election before then, say "
    "that it is an early close and give a reason: the reason is published in the log."
)
REASON_REQUIRED = N_("An early close needs a reason; it is published in the log.")
REASON_TOO_LONG = N_("The reason may be at most 500 characters.")
REASON_CONTROL = N_("The reason may not contain control characters.")

# The election entry kinds, registered once for every module of the election services
# (they all import this one).


def now() -> datetime:
    """The default clock: UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


class ElectionSummary(msgspec.Struct, frozen=True):
    id: str
    title: str
    district: str
    status: str
    manifest_hash: str | None
    opened_seq: int | None
    closed_seq: int | None
    count_size: int | None
    config: dict[str, Any]


@dataclass
class LiveElection:
    """What casting and issuing need, decoded once per process."""

    id: str
    manifest: Manifest
    hash: str
    credential_key: rsa.RSAPublicKey
    signing_key: BlindSigningKey
    sealing_private: bytes | None
    lot_secret: bytes


def summary(row: Election) -> ElectionSummary:
    return ElectionSummary(
        id=row.id,
        title=row.title,
        district=row.district,
        status=row.status,
        manifest_hash=row.manifest_hash,
        opened_seq=row.opened_seq,
        closed_seq=row.closed_seq,
        count_size=row.count_size,
        config=msgspec.json.decode(row.config),
    )


def _early_reason(reason: str | None) -> str:
    """The reason of an early close as it is logged (trimmed), or a 400 refusal."""
    text = (reason or "").strip()
    if not text:
        raise InvalidInput(REASON_REQUIRED, code="reason_required", field="reason")
    if len(text) > kinds.CLOSE_REASON_LENGTH:
        raise InvalidInput(REASON_TOO_LONG, code="bad_reason", field="reason")
    if kinds.close_reason_problem(text) is not None:
        raise InvalidInput(REASON_CONTROL, code="bad_reason", field="reason")
    return text


def batch_status(wdb: Session, log: BatchLog, election_id: str) -> str | None:
    """The election's status as the batch sees it, read once per batch (``log.memo``:
    only a savepoint work item, such as closing, can change it, and the memo is
    emptied after each)."""
    key = ("election.status", election_id)
    if key not in log.memo:
        status = wdb.connection().execute(_STATUS, {"id": election_id})
        log.memo[key] = status.scalar_one_or_none()
    return log.memo[key]  # type: ignore[no-any-return]


class ElectionLifecycle:
    """Configuring, opening and closing elections, and the keys of the open ones."""

    def __init__(
        self,
        *,
        store: LogStore,
        sequencer: Sequencer,
        authority_key: Ed25519PrivateKey,
        secret_box: SecretBox,
        allow_test_keys: bool = False,
        clock: Callable[[], datetime] = now,
        commitment_key: bytes = b"",
    ) -> None:
        self.store = store
        # The server secret of the voters' commitments (docs/protocol.md §6.11).
        self.commitment_key = commitment_key
        self.sequencer = sequencer
        self.authority_key = authority_key
        self.box = secret_box
        self.allow_test_keys = allow_test_keys
        self.clock = clock
        self._live: dict[str, LiveElection] = {}
        self._lock = threading.Lock()

    # --- configuration --------------------------------------------------------------------
    def create(self, db: Session, data: object) -> ElectionSummary:
        """A draft election from a configuration (``ManifestRejected`` for its first
        problem)."""
        config = parse_config(data)
        check_config(config, allow_test_keys=self.allow_test_keys, new_election=True)
        if db.get(Election, config.id) is not None:
            raise ElectionStateConflict(
                "election_exists", f"An election with the id {config.id!r} exists."
            )
        row = Election(
            id=config.id,
            title=config.title,
            district=config.district,
            config=canonical_bytes(to_json(config)),
            created_at=int(time.time()),
        )
        db.add(row)
        try:
            db.flush()
        except IntegrityError:
            raise ElectionStateConflict(
                "election_exists", f"An election with the id {config.id!r} exists."
            ) from None
        return summary(row)

    def get(self, db: Session, election_id: str) -> Election:
        row = db.get(Election, election_id)
        if row is None:
            raise ElectionNotFound("no_such_election", f"There is no election {election_id!r}.")
        return row

    def list(self, db: Session) -> list[ElectionSummary]:
        rows = db.scalars(select(Election).order_by(Election.created_at, Election.id))
        return [summary(row) for row in rows]

    # --- opening and closing ----------------------------------------------------------------
    def read(self) -> Session:
        """A read-only session: it never holds a write lock while the sequencer works."""
        return self.store.read_sessions()

    def open(self, election_id: str) -> ElectionSummary:
        """Open the election: its keys, its committed electorate, the signed manifest.

        The electorate (docs/protocol.md §6.11) is gathered inside the log's work item,
        so it is exactly the roll (or the verified residents) that the entry follows:
        the roll is frozen from the same transaction on, and verifications are written
        by work items of the same sequencer."""
        with self.read() as db:
            row = self.get(db, election_id)
            if row.status != "draft":
                raise ElectionStateConflict(
                    "already_open", f"The election {election_id!r} is {row.status}."
                )
            config = parse_config(msgspec.json.decode(row.config))
        check_config(config, allow_test_keys=self.allow_test_keys, new_election=True)
        opened_at = self.clock()
        if opened_at >= parse_time(config.window.closes_at):
            raise ElectionStateConflict("window_passed", "The voting window has already ended.")
        # Slow, so outside the sequencer: the keys of this election. With trustees, the
        # sealing key is the ceremony's joint key and no one here holds its secret, nor
        # a lot secret: the lot comes from the trustees' scalar and the close's root.
        credential_key = generate_private_key(config.rsa_key_bits)
        trustees: dict[str, Any] | None = None
        if configured_trustees(config) is not None:
            with self.read() as db:
                sealing_public, trustees = opening_keys(db, election_id, config)
            sealing_private, lot_secret = b"", b""
        else:
            sealing_private, sealing_public = seal.generate_keypair()
            lot_secret = os.urandom(32)
        pem = credential_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        sealed_secrets = self.box.seal(
            election_id, ElectionSecrets(pem, sealing_private, lot_secret)
        )

        def work(wdb: Session, log: BatchLog) -> ElectionSummary:
            election = wdb.get(Election, election_id, with_for_update=True)
            assert election is not None
            if election.status != "draft":
                raise ElectionStateConflict(
                    "already_open", f"The election {election_id!r} is open."
                )
            members = gather_electorate(wdb, config, self.commitment_key)
            committed = msgspec.structs.replace(
                config,
                eligibility=msgspec.structs.replace(
                    config.eligibility,
                    electorate=Electorate(
                        size=len(members), commitments=electorate_digest(members.values())
                    ),
                ),
            )
            manifest = build_manifest(
                committed,
                credential_key.public_key(),
                sealing_public,
                lot_secret if trustees is None else None,
                self.authority_key.public_key().public_bytes_raw(),
                opened_at,
                allow_test_keys=self.allow_test_keys,
                trustees=trustees,
            )
            signature = sign_manifest(self.authority_key, manifest)
            digest = manifest_hash(manifest)
            body = {
                "manifest": manifest_dict(manifest),
                "manifest_hash": digest,
                "signature": signature,
            }
            appended = log.append(kinds.ELECTION_OPENED, body)
            if members:
                wdb.execute(
                    insert(ElectorateMember),
                    [
                        {
                            "election_id": election_id,
                            "voter_key": key,
                            "commitment": commitment,
                            "added_seq": None,
                        }
                        for key, commitment in members.items()
                    ],
                )
            election.status = "open"
            election.manifest = canonical_bytes(manifest_dict(manifest))
            election.manifest_hash = digest
            election.manifest_signature = signature
            election.secrets = sealed_secrets
            election.opened_seq = appended.seq
            wdb.flush()
            return summary(election)

        return self.sequencer.run(work).result

    def close(
        self, election_id: str, *, early: bool = False, reason: str | None = None
    ) -> ElectionSummary:
        """Close the election: ``election.closed`` and ``election.unsealed`` in one batch
        (with trustees, ``election.closed`` alone).

        Before the window's ``closes_at`` only with ``early`` and a ``reason`` (1 to 500
        characters, logged in ``election.closed``); otherwise ``409 window_open``. The
        decision is taken against the entry's own time, so the log and the verifier
        agree on whether the close was early."""
        with self.read() as db:
            row = self.get(db, election_id)
            if row.status != "open":
                raise ElectionStateConflict(
                    "not_open", f"The election {election_id!r} is {row.status}."
                )
            live = self.live(db, election_id)
        logged_reason = _early_reason(reason) if early else None
        closes_at = parse_time(live.manifest.window.closes_at)
        if logged_reason is None and self.clock() < closes_at:
            raise ElectionStateConflict("window_open", WINDOW_STILL_OPEN)

        def work(wdb: Session, log: BatchLog) -> ElectionSummary:
            election = wdb.get(Election, election_id)
            assert election is not None
            if election.status != "open":
                raise ElectionStateConflict(
                    "not_open", f"The election {election_id!r} is not open."
                )
            before_end = parse_at(log.at) < closes_at
            if before_end and logged_reason is None:
                raise ElectionStateConflict("window_open", WINDOW_STILL_OPEN)
            size, root = log.size, log.edge.root()
            body: dict[str, Any] = {
                "election": live.hash,
                "checkpoint_size": size,
                "checkpoint_root": root.hex(),
            }
            if before_end:
                body["reason"] = logged_reason
            closed = log.append(kinds.ELECTION_CLOSED, body)
            if live.sealing_private is not None:
                log.append(
                    kinds.ELECTION_UNSEALED,
                    {
                        "election": live.hash,
                        "sealing_private_key": b64url_encode(live.sealing_private),
                    },
                )
            election.status = "closed"
            election.closed_seq = closed.seq
            election.count_size = size
            wdb.flush()
            return summary(election)

        return self.sequencer.run(work).result

    def live_cached(self, election_id: str) -> LiveElection | None:
        """The election's keys and manifest if this process has them (no database)."""
        return self._live.get(election_id)

    def live(self, db: Session, election_id: str) -> LiveElection:
        cached = self._live.get(election_id)
        if cached is not None:
            return cached
        row = self.get(db, election_id)
        if row.manifest is None or row.secrets is None or row.manifest_hash is None:
            raise ElectionStateConflict("not_open", f"The election {election_id!r} has not opened.")
        manifest = parse_manifest(
            msgspec.json.decode(row.manifest), allow_test_keys=self.allow_test_keys
        )
        found = self.box.open(election_id, row.secrets)
        private = serialization.load_pem_private_key(found.credential_key_pem, password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        live = LiveElection(
            id=election_id,
            manifest=manifest,
            hash=row.manifest_hash,
            credential_key=load_credential_key(manifest),
            signing_key=BlindSigningKey.from_private_key(private),
            # An election with trustees: the server has no sealing key (§14).
            sealing_private=None if trustees_of(manifest) is not None else found.sealing_private,
            lot_secret=found.lot_secret,
        )
        with self._lock:
            self._live[election_id] = live
        return live

    def manifest_view(self, db: Session, election_id: str) -> dict[str, Any]:
        row = self.get(db, election_id)
        if row.manifest is None:
            raise ElectionStateConflict("not_open", f"The election {election_id!r} has not opened.")
        return {
            "manifest": msgspec.json.decode(row.manifest),
            "manifest_hash": row.manifest_hash,
            "signature": row.manifest_signature,
            "authority_key": b64url_encode(self.authority_key.public_key().public_bytes_raw()),
            "opened_seq": row.opened_seq,
        }

    def live_for(self, election_id: str) -> LiveElection:
        """``live`` with its own read session (when this process lacks the election)."""
        cached = self.live_cached(election_id)
        if cached is not None:
            return cached
        with self.read() as db:
            return self.live(db, election_id)
