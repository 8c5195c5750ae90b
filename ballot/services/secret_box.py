"""An open election's secrets at rest: sealed in the database under a key of the data
directory.

Opening an election makes three secrets the server needs until the count: the RSA key
that signs credentials, the X25519 key that opens the sealed ballots (published at the
close) and the lot secret (revealed with the result). They are stored as one AES-256-GCM
box, bound to the election's id as associated data, so a box copied to another
election's row does not open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit.core.canonical import b64url_decode, b64url_encode

__all__ = ["ElectionSecrets", "SecretBox"]


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
