"""A voter's wallet (docs/protocol.md §6.13, §8.1): what a voter must keep -- the
recovery code, the credential's private key and token, the number of the last ballot
cast (``counter``) and the receipts with the ballots they are for --, stored as a JSON
file readable only by its owner (mode 0600)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.canonical import b64url_decode, b64url_encode
from ballot.core.errors import ClientError
from ballot.core.token import format_recovery_code, recovery_seed

if TYPE_CHECKING:
    from pathlib import Path


def _counter(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ClientError("bad_wallet", "the wallet's counter is not a whole number")
    return value


@dataclass
class Wallet:
    """A credential for one election and the receipts of the ballots it cast.

    Each receipt is the server's receipt (§8.1) with ``"cast"``: the ``ballot.cast`` body
    this client sent, ``{"ballot": …, "signature": …}``, so that it can be checked again
    against the log entry. ``recovery_code`` derives the credential (§6.13); ``log_key``
    is the log's verifier key as first seen, pinned for every later check.
    """

    election_id: str
    election_hash: str
    credential_private: str  # b64url raw Ed25519 private key
    token: dict[str, str] | None = None
    receipts: list[dict[str, Any]] = field(default_factory=list)
    recovery_code: str | None = None
    log_key: str | None = None
    counter: int = 0  # the number of the last ballot this credential cast (0: none)

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(b64url_decode(self.credential_private))

    @property
    def credential(self) -> str:
        return b64url_encode(self.private_key.public_key().public_bytes_raw())

    def to_json(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "election_hash": self.election_hash,
            "credential_private": self.credential_private,
            "token": self.token,
            "receipts": self.receipts,
            "recovery_code": self.recovery_code,
            "log_key": self.log_key,
            "counter": self.counter,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Wallet:
        code, key = data.get("recovery_code"), data.get("log_key")
        return cls(
            election_id=str(data["election_id"]),
            election_hash=str(data["election_hash"]),
            credential_private=str(data["credential_private"]),
            token=data.get("token"),
            receipts=list(data.get("receipts", [])),
            recovery_code=None if code is None else str(code),
            log_key=None if key is None else str(key),
            counter=_counter(data.get("counter", 0)),
        )

    @classmethod
    def from_recovery_code(cls, election_id: str, election_hash: str, code: str) -> Wallet:
        """The wallet of the credential ``code`` derives in this election (no token yet)."""
        seed = recovery_seed(code, election_hash)
        return cls(
            election_id=election_id,
            election_hash=election_hash,
            credential_private=b64url_encode(seed),
            recovery_code=format_recovery_code(code),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Wallet:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
