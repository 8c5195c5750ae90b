"""Elections as the server runs them: configure, open, issue credentials, cast, close.

Every state change that the public must be able to check goes through the log's
sequencer as one work item, so the change and its entry commit together
(``audit.store``): opening writes ``election.opened``; issuing a credential records the
issuance (one per voter, by primary key) and writes ``credential.issued``; casting writes
``ballot.cast``; closing writes ``election.closed`` then ``election.unsealed``. Because
casting and closing are serialized by the sequencer, no ballot can follow the close in
the log.

The CPU-heavy parts (RSA key generation, blind signing, checking a ballot's token,
signature and seal) run in the caller's thread before the work item is submitted, so the
sequencer only does cheap database work.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.core.canonical import b64url_decode, b64url_encode, canonical_bytes
from audit.services.store import BatchLog, Committed, LogStore, Sequencer, insert_new
from ballot.core import kinds, seal
from ballot.core.ballot import ballot_json, check_ballot, check_window, parse_ballot
from ballot.core.blind import BlindSigningKey, blind_sign, generate_private_key
from ballot.core.choices import BallotConflict, BallotRejected
from ballot.core.config import ElectionConfig, parse_config, parse_time, to_json, validate_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import (
    Manifest,
    build_manifest,
    load_credential_key,
    manifest_dict,
    manifest_hash,
    parse_manifest,
    sign_manifest,
)
from ballot.services.errors import (
    BadCredentialRequest,
    ElectionNotFound,
    ElectionStateConflict,
    RollRejected,
    VoterNotAuthenticated,
    VoterNotEligible,
)
from ballot.services.models import CastBallot, CredentialIssuance, Election, RollEntry

CAST_BALLOT = CastBallot.__table__
CREDENTIAL_ISSUANCE = CredentialIssuance.__table__
_VOTED = select(CastBallot.id).where(
    CastBallot.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    CastBallot.credential == bindparam("credential"),  # type: ignore[arg-type]
)
# Who is on the roll: by access code (its hash) or by e-mail; statements built once.
_ROLL_BY_CODE = select(RollEntry.voter_ref).where(
    RollEntry.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    RollEntry.code_hash == bindparam("key"),  # type: ignore[arg-type]
)
_ROLL_BY_EMAIL = select(RollEntry.voter_ref).where(
    RollEntry.election_id == bindparam("election_id"),  # type: ignore[arg-type]
    RollEntry.email == bindparam("key"),  # type: ignore[arg-type]
)
_STATUS = select(Election.status).where(Election.id == bindparam("id"))  # type: ignore[arg-type]

kinds.register_kinds()


class AlreadyCast(Exception):
    """Inside the sequencer: this exact ballot is in the log already."""


class _AlreadyIssued(Exception):
    """Inside the sequencer: this voter already has a credential for this election."""


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ElectionSecrets:
    credential_key_pem: bytes
    sealing_private: bytes
    lot_secret: bytes


class SecretBox:
    """AES-256-GCM under a key from the data directory, bound to the election id."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, election_id: str, value: ElectionSecrets) -> bytes:
        nonce = os.urandom(12)
        plain = msgspec.json.encode(
            {
                "credential_key_pem": value.credential_key_pem.decode(),
                "sealing_private": b64url_encode(value.sealing_private),
                "lot_secret": b64url_encode(value.lot_secret),
            }
        )
        return nonce + self._aead.encrypt(nonce, plain, election_id.encode())

    def open(self, election_id: str, blob: bytes) -> ElectionSecrets:
        plain = self._aead.decrypt(blob[:12], blob[12:], election_id.encode())
        data = msgspec.json.decode(plain)
        return ElectionSecrets(
            credential_key_pem=data["credential_key_pem"].encode(),
            sealing_private=b64url_decode(data["sealing_private"]),
            lot_secret=b64url_decode(data["lot_secret"]),
        )


@dataclass
class LiveElection:
    """What casting and issuing need, decoded once per process."""

    id: str
    manifest: Manifest
    hash: str
    credential_key: rsa.RSAPublicKey
    signing_key: BlindSigningKey
    sealing_private: bytes
    lot_secret: bytes


class Receipt(msgspec.Struct, frozen=True):
    """What a voter keeps: where the ballot is and a proof that the log holds it."""

    election: str
    seq: int
    leaf_hash: str
    checkpoint: str
    size: int
    proof: list[str]
    ballot_digest: str


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


@dataclass(frozen=True)
class PendingCast:
    """A checked ballot handed to the sequencer; ``future`` resolves once it is durable."""

    live: LiveElection
    digest: str
    future: Future[Committed[tuple[int, bytes]]]


@dataclass(frozen=True)
class Voter:
    """Who asks for a credential: a logged-in account or the holder of an access code."""

    public_id: str | None = None
    email: str | None = None
    role: str | None = None
    district: str | None = None
    access_code: str | None = None


def code_hash(code: str) -> str:
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(b"veche/access-code/v1\n" + normalized.encode()).hexdigest()


def new_access_code() -> str:
    """Twenty characters of an unambiguous alphabet (about 98 bits), grouped by five."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(20))
    return "-".join(raw[i : i + 5] for i in range(0, 20, 5))


class ElectionService:
    def __init__(
        self,
        *,
        store: LogStore,
        sequencer: Sequencer,
        authority_key: Ed25519PrivateKey,
        secret_box: SecretBox,
        commitment_key: bytes,
        allow_test_keys: bool = False,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.store = store
        self.sequencer = sequencer
        self.authority_key = authority_key
        self.box = secret_box
        self.commitment_key = commitment_key
        self.allow_test_keys = allow_test_keys
        self.clock = clock
        self._live: dict[str, LiveElection] = {}
        self._lock = threading.Lock()

    # --- configuration --------------------------------------------------------------------
    def create(self, db: Session, data: object) -> ElectionSummary:
        config = parse_config(data)
        problems = validate_config(config, allow_test_keys=self.allow_test_keys)
        if problems:
            first = problems[0]
            raise ManifestRejected(first.code, first.detail, first.field)
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
    def _read(self) -> Session:
        """A read-only session: it never holds a write lock while the sequencer works."""
        return self.store.read_sessions()

    def open(self, election_id: str) -> ElectionSummary:
        with self._read() as db:
            row = self.get(db, election_id)
            if row.status != "draft":
                raise ElectionStateConflict(
                    "already_open", f"The election {election_id!r} is {row.status}."
                )
            config = parse_config(msgspec.json.decode(row.config))
        opened_at = self.clock()
        if opened_at >= parse_time(config.window.closes_at):
            raise ElectionStateConflict("window_passed", "The voting window has already ended.")
        # Slow, so outside the sequencer: the keys of this election.
        credential_key = generate_private_key(config.rsa_key_bits)
        sealing_private, sealing_public = seal.generate_keypair()
        lot_secret = os.urandom(32)
        manifest = build_manifest(
            config,
            credential_key.public_key(),
            sealing_public,
            lot_secret,
            self.authority_key.public_key().public_bytes_raw(),
            opened_at,
            allow_test_keys=self.allow_test_keys,
        )
        signature = sign_manifest(self.authority_key, manifest)
        digest = manifest_hash(manifest)
        pem = credential_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        sealed_secrets = self.box.seal(
            election_id, ElectionSecrets(pem, sealing_private, lot_secret)
        )
        body = {
            "manifest": manifest_dict(manifest),
            "manifest_hash": digest,
            "signature": signature,
        }

        def work(wdb: Session, log: BatchLog) -> ElectionSummary:
            election = wdb.get(Election, election_id)
            assert election is not None
            if election.status != "draft":
                raise ElectionStateConflict(
                    "already_open", f"The election {election_id!r} is open."
                )
            appended = log.append(kinds.ELECTION_OPENED, body)
            election.status = "open"
            election.manifest = canonical_bytes(manifest_dict(manifest))
            election.manifest_hash = digest
            election.manifest_signature = signature
            election.secrets = sealed_secrets
            election.opened_seq = appended.seq
            wdb.flush()
            return summary(election)

        return self.sequencer.run(work).result

    def close(self, election_id: str) -> ElectionSummary:
        with self._read() as db:
            row = self.get(db, election_id)
            if row.status != "open":
                raise ElectionStateConflict(
                    "not_open", f"The election {election_id!r} is {row.status}."
                )
            live = self.live(db, election_id)

        def work(wdb: Session, log: BatchLog) -> ElectionSummary:
            election = wdb.get(Election, election_id)
            assert election is not None
            if election.status != "open":
                raise ElectionStateConflict(
                    "not_open", f"The election {election_id!r} is not open."
                )
            size, root = log.size, log.edge.root()
            closed = log.append(
                kinds.ELECTION_CLOSED,
                {"election": live.hash, "checkpoint_size": size, "checkpoint_root": root.hex()},
            )
            log.append(
                kinds.ELECTION_UNSEALED,
                {"election": live.hash, "sealing_private_key": b64url_encode(live.sealing_private)},
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
            sealing_private=found.sealing_private,
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

    # --- the roll and access codes -----------------------------------------------------------
    def import_roll(self, db: Session, election_id: str, text: str) -> int:
        """Add the rows of a CSV roll (``voter_id`` and optional ``email`` columns).

        Every bad row is reported with its line number; nothing is added unless all are good.
        """
        row = self.get(db, election_id)
        if row.status == "closed":
            raise ElectionStateConflict("closed", "The election is closed.")
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if reader.fieldnames is None or "voter_id" not in [f.strip() for f in reader.fieldnames]:
            raise RollRejected("bad_roll", "The roll needs a header line with a 'voter_id' column.")
        problems: list[str] = []
        seen: set[str] = set()
        entries: list[RollEntry] = []
        existing = set(
            db.scalars(select(RollEntry.voter_ref).where(RollEntry.election_id == election_id))
        )
        for line_no, record in enumerate(reader, start=2):
            clean = {
                (k or "").strip(): (v or "").strip()
                for k, v in record.items()
                if not isinstance(v, list)
            }
            ref = clean.get("voter_id", "")
            email = clean.get("email", "").lower() or None
            if not ref:
                problems.append(f"line {line_no}: the voter_id is empty")
            elif len(ref) > 100:
                problems.append(f"line {line_no}: the voter_id is longer than 100 characters")
            elif ref in seen or ref in existing:
                problems.append(f"line {line_no}: the voter_id {ref!r} appears twice")
            if email is not None and ("@" not in email or len(email) > 254 or " " in email):
                problems.append(f"line {line_no}: {email!r} is not an e-mail address")
            if None in record:
                problems.append(f"line {line_no}: more fields than the header has")
            seen.add(ref)
            entries.append(RollEntry(election_id=election_id, voter_ref=ref, email=email))
        if problems:
            shown = "; ".join(problems[:20])
            more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
            raise RollRejected("bad_roll", f"The roll has errors: {shown}{more}.")
        db.add_all(entries)
        db.flush()
        return len(entries)

    def make_access_codes(self, db: Session, election_id: str) -> list[tuple[str, str]]:
        """Codes for every roll entry that has none yet: (voter_id, code), shown only once."""
        self.get(db, election_id)
        made: list[tuple[str, str]] = []
        rows = db.scalars(
            select(RollEntry).where(
                RollEntry.election_id == election_id, RollEntry.code_hash.is_(None)
            )  # type: ignore[union-attr]
        )
        for entry in rows:
            code = new_access_code()
            entry.code_hash = code_hash(code)
            made.append((entry.voter_ref, code))
        db.flush()
        return made

    # --- credentials ---------------------------------------------------------------------------
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

    @staticmethod
    def _status(wdb: Session, log: BatchLog, election_id: str) -> str | None:
        """The election's status as the batch sees it, read once per batch (``log.memo``:
        only a savepoint work item, such as closing, can change it, and the memo is
        emptied after each)."""
        key = ("election.status", election_id)
        if key not in log.memo:
            status = wdb.connection().execute(_STATUS, {"id": election_id})
            log.memo[key] = status.scalar_one_or_none()
        return log.memo[key]  # type: ignore[no-any-return]

    def commitment(self, election_hash: str, voter_key: str) -> str:
        message = bytes.fromhex(election_hash) + voter_key.encode()
        return hmac.new(self.commitment_key, message, hashlib.sha256).hexdigest()

    def issue_credential(self, election_id: str, voter: Voter, blinded_message: str) -> str:
        """Blind-sign the voter's request once; return the blind signature (base64url)."""
        # One read on the common path (the voter's roll entry, if any): the election's
        # state is checked where it counts, in the sequencer, and a second credential is
        # refused there by the primary key.
        with self._read() as db:
            live = self.live(db, election_id)
            try:
                check_window(live.manifest, self.clock())
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
            if self._status(wdb, log, election_id) != "open":
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
            self.sequencer.run(work, savepoint=False)
        except _AlreadyIssued:
            with self._read() as db:
                previous = db.get(CredentialIssuance, (election_id, key))
            # The same request again (its answer was lost) gets the same answer.
            if previous is not None and hmac.compare_digest(previous.blinded_hash, blinded_hash):
                return b64url_encode(previous.blind_signature)
            raise ElectionStateConflict(
                "already_issued", "You already have a credential for this election."
            ) from None
        return b64url_encode(signature)

    # --- casting ---------------------------------------------------------------------------------
    def live_for(self, election_id: str) -> LiveElection:
        """``live`` with its own read session (when this process lacks the election)."""
        cached = self.live_cached(election_id)
        if cached is not None:
            return cached
        with self._read() as db:
            return self.live(db, election_id)

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
            self.clock(),
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
            if self._status(wdb, log, election_id) != "open" or self.clock() >= closes_at:
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

        return PendingCast(live, digest, self.sequencer.submit(work, savepoint=False))

    def receipt(self, pending: PendingCast, committed: Committed[tuple[int, bytes]]) -> Receipt:
        """The receipt of a ballot just appended."""
        ready = self.cached_receipt(pending, committed)
        if ready is not None:
            return ready
        seq, leaf = committed.result
        size, note = committed.checkpoint.size, committed.checkpoint.note
        with self.store.read_sessions() as rdb:
            proof = self.store.inclusion_proof(rdb, seq, size)
        return self._receipt(pending, seq, leaf, size, note, proof)

    def cached_receipt(
        self, pending: PendingCast, committed: Committed[tuple[int, bytes]]
    ) -> Receipt | None:
        """The receipt if its proof's nodes are all in this process's cache (the usual
        case: the batch that appended the ballot has just added them), else None."""
        seq, leaf = committed.result
        size, note = committed.checkpoint.size, committed.checkpoint.note
        proof = self.store.inclusion_proof_cached(seq, size)
        if proof is None:
            return None
        return self._receipt(pending, seq, leaf, size, note, proof)

    def resent_receipt(self, pending: PendingCast) -> Receipt:
        """A ballot sent again gets its first receipt back, proven at the latest
        checkpoint."""
        with self.store.read_sessions() as rdb:
            same = rdb.scalars(
                select(CastBallot).where(
                    CastBallot.election_id == pending.live.id,  # type: ignore[arg-type]
                    CastBallot.digest == pending.digest,  # type: ignore[arg-type]
                )
            ).first()
            assert same is not None
            latest = self.store.latest_checkpoint(rdb)
            assert latest is not None
            proof = self.store.inclusion_proof(rdb, same.seq, latest.size)
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
