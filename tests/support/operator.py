"""A malicious operator's building blocks: it holds the database and every key.

The server's operator holds the authority key (it signs checkpoints, manifests and
results), each election's RSA credential key (it can certify credentials for itself)
and its sealing key (it can read every ballot). What it does not hold is a voter's
credential key: it cannot sign a ballot in a voter's name. These helpers let a test
play that operator -- issue itself credentials, build ballots, copy a voter's sealed
choices, re-chain and re-sign a log -- so that the test can show what the verifier
still catches (docs/protocol.md §10.4).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audit.core.canonical import b64url_encode, canonical_bytes
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import leaf_hash
from audit.core.export import KeyInfo, write_export
from audit.core.merkle import mth
from ballot.core import blind, kinds, seal, token
from ballot.core.ballot import Ballot, ballot_json, make_ballot, sign_ballot
from ballot.core.config import parse_config
from ballot.core.manifest import Manifest, build_manifest, manifest_hash
from tests.strategies.ballot_manifest import base_config

Entries = list[dict[str, Any]]
TEST_KEY_BITS = 1024
OPENED_AT = datetime(2027, 2, 28, 12, 0, 0, tzinfo=UTC)
# Inside the window of ``base_config`` (2027-03-01T08:00:00Z .. 2027-03-15T20:00:00Z).
DURING = "2027-03-05T12:00:00Z"


# --- credentials and ballots ------------------------------------------------------------------


def issue_token(
    signer: blind.BlindSigningKey | rsa.RSAPrivateKey,
    public: rsa.RSAPublicKey,
    election_hash: str,
    credential: ed25519.Ed25519PrivateKey,
) -> dict[str, str]:
    """A credential token signed with the election's RSA key (``signer``, whose public
    half is ``public``), as the server -- or an operator holding its key -- signs one."""
    message = token.credential_message(
        b64url_encode(credential.public_key().public_bytes_raw()), election_hash
    )
    blinded, state = token.prepare_and_blind(public, message)
    signed = token.finalize(public, state, blind.blind_sign(signer, blinded))
    return {"prefix": signed["prefix"], "signature": signed["signature"]}


def cast_body(ballot: Ballot, signature: str) -> dict[str, Any]:
    """The ``ballot.cast`` body of a ballot."""
    return {"ballot": ballot_json(ballot), "signature": signature}


def copied_seal(
    victim: Mapping[str, Any],
    attacker: ed25519.Ed25519PrivateKey,
    attacker_token: Mapping[str, str],
    counter: int = 1,
) -> dict[str, Any]:
    """A ballot of the attacker's own credential carrying the victim's sealed choices
    (copied from the victim's ``ballot.cast`` body), correctly signed by the attacker."""
    stolen = victim["ballot"]
    fields: dict[str, Any] = {
        "credential": b64url_encode(attacker.public_key().public_bytes_raw()),
        "election": stolen["election"],
        "sealed": stolen["sealed"],
        "token": dict(attacker_token),
    }
    if "v" in stolen:
        fields.update(counter=counter, v=stolen["v"])
    ballot = msgspec.convert(fields, Ballot)
    return cast_body(ballot, sign_ballot(attacker, ballot))


@dataclass
class PureElection:
    """An election's keys and manifest without a server, for the pure core's tests."""

    rsa_private: rsa.RSAPrivateKey
    sealing_private: bytes
    manifest: Manifest
    hash: str

    @classmethod
    def open(cls, version: Literal[1, 2] = 2, **config: Any) -> PureElection:
        rsa_private = blind.generate_private_key(TEST_KEY_BITS)
        sealing_private, sealing_public = seal.generate_keypair()
        cfg = msgspec.structs.replace(
            parse_config(base_config(**config)), rsa_key_bits=TEST_KEY_BITS
        )
        manifest = build_manifest(
            cfg,
            rsa_private.public_key(),
            sealing_public,
            bytes(32),
            bytes(32),
            OPENED_AT,
            allow_test_keys=True,
            version=version,
        )
        return cls(rsa_private, sealing_private, manifest, manifest_hash(manifest))

    def voter(self) -> Voter:
        key = ed25519.Ed25519PrivateKey.generate()
        public = self.rsa_private.public_key()
        return Voter(self, key, issue_token(self.rsa_private, public, self.hash, key))


@dataclass
class Voter:
    """A credential of a ``PureElection`` and its token."""

    election: PureElection
    key: ed25519.Ed25519PrivateKey
    token: dict[str, str]

    @property
    def credential(self) -> str:
        return b64url_encode(self.key.public_key().public_bytes_raw())

    def ballot(
        self,
        choices: Mapping[str, Any],
        counter: int = 1,
        rng: Callable[[int], bytes] = os.urandom,
    ) -> dict[str, Any]:
        """A ``ballot.cast`` body: ``choices`` sealed and signed as ballot ``counter``."""
        ballot, signature = make_ballot(
            self.election.manifest, self.key, self.token, choices, rng, counter=counter
        )
        return cast_body(ballot, signature)


# --- the log, re-chained and re-signed ---------------------------------------------------------


def of_kind(entries: Entries, kind: str) -> list[int]:
    """The positions of the entries of ``kind``."""
    return [k for k, e in enumerate(entries) if e["kind"] == kind]


def insert_before_close(entries: Entries, position: int, entry: dict[str, Any]) -> int:
    """Insert ``entry`` at ``position`` (before the election's close) and move the close's
    ``checkpoint_size`` along so that the entry is among those counted; its new seq."""
    entries.insert(position, entry)
    for close in of_kind(entries, kinds.ELECTION_CLOSED):
        if close > position:
            body = entries[close]["body"]
            entries[close] = {
                **entries[close],
                "body": {**body, "checkpoint_size": body["checkpoint_size"] + 1},
            }
    return position


def rebuild(
    entries: Entries,
    key: ed25519.Ed25519PrivateKey,
    origin: str,
    directory: Path,
    *,
    fix_close: bool = True,
) -> Path:
    """Re-chain and re-sign a log, as its operator could: every ``seq`` and ``prev`` set
    again, each close's root recomputed, a checkpoint of the whole log signed."""
    lines: list[bytes] = []
    prev = "0" * 64
    for seq, entry in enumerate(entries):
        entry = {**entry, "seq": seq, "prev": prev}
        if entry["kind"] == kinds.ELECTION_CLOSED and fix_close:
            size = entry["body"]["checkpoint_size"]
            root = mth([leaf_hash(line) for line in lines[:size]]).hex()
            entry["body"] = {**entry["body"], "checkpoint_root": root}
        line = canonical_bytes(entry)
        lines.append(line)
        prev = leaf_hash(line).hex()
    root = mth([leaf_hash(line) for line in lines])
    note = sign_checkpoint(key, origin, Checkpoint(origin, len(lines), root))
    write_export(directory, lines, note, KeyInfo.from_private_key(origin, key))
    return directory


def resign_result(entries: Entries, key: ed25519.Ed25519PrivateKey, **changes: Any) -> int:
    """Change the published result and sign it again with the authority key."""
    at = of_kind(entries, kinds.RESULT_PUBLISHED)[0]
    body = {**entries[at]["body"], **changes}
    result = msgspec.convert(body, kinds.ResultPublished)
    body["signature"] = kinds.sign_result(key, result)
    entries[at] = {**entries[at], "body": body}
    return at
