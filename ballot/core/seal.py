"""Sealed ballots: HPKE (RFC 9180) so that choices stay unreadable until the close.

Suite: base mode (RFC 9180 §5.1.1), DHKEM(X25519, HKDF-SHA256) (§4.1, §7.1), HKDF-SHA256
(§7.2) and AES-128-GCM (§7.3), used through the single-shot API (§6.1) with one message
per context (sequence number 0) and empty associated data. The cipher work is done by
``cryptography``'s HPKE implementation (``cryptography.hazmat.primitives.hpke``).

Context binding (docs/protocol.md §2.12): a version-2 ballot's seal uses
``info = b"veche/seal/v2" || manifest_hash || credential`` (the manifest hash and the
credential's Ed25519 public key as their raw 32 bytes each), so it opens only under the
election *and the credential* it was sealed for: a sealed payload copied into another
credential's ballot does not open. A version-1 ballot's seal (elections whose manifest
is version 1, before that binding) uses ``info = b"veche/seal/v1" || manifest_hash``.

Wire layout of a sealed ballot (carried as unpadded base64url in JSON)::

    enc (32 bytes: the sender's ephemeral X25519 public key, RFC 9180 §7.1.1)
    || ct (AES-128-GCM ciphertext: len(plaintext) bytes, then the 16-byte tag)

Keys are raw 32-byte X25519 strings (RFC 9180 §7.1.1-§7.1.2), the same bytes WebCrypto
exports as "raw". The ephemeral key of ``seal`` is drawn inside ``cryptography`` (its API
takes no randomness), so ``seal`` is the one function here whose randomness cannot be
pinned; ``generate_keypair`` takes an ``rng`` like the rest of the core.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from ballot.core.errors import ErrorCode, SealRefused

INFO_PREFIX = b"veche/seal/v1"
INFO_PREFIX_V2 = b"veche/seal/v2"
KEY_LENGTH = 32  # X25519 Nsk = Npk
ENC_LENGTH = 32  # DHKEM(X25519) Nenc
TAG_LENGTH = 16  # AES-128-GCM Nt
MANIFEST_HASH_LENGTH = 32
CREDENTIAL_LENGTH = 32  # the raw Ed25519 public key a version-2 seal is bound to
SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)


def seal_info(manifest_hash: bytes, credential: bytes | None = None) -> bytes:
    """The HPKE ``info`` string that ties a sealed ballot to one election and, given the
    credential's raw public key (version-2 ballots), to that credential."""
    if not isinstance(manifest_hash, bytes) or len(manifest_hash) != MANIFEST_HASH_LENGTH:
        raise SealRefused(
            f"the manifest hash must be its raw {MANIFEST_HASH_LENGTH} bytes",
            code=ErrorCode.MANIFEST_HASH_MALFORMED,
        )
    if credential is None:
        return INFO_PREFIX + manifest_hash
    if not isinstance(credential, bytes) or len(credential) != CREDENTIAL_LENGTH:
        raise SealRefused(
            f"the credential must be its raw {CREDENTIAL_LENGTH}-byte public key",
            code=ErrorCode.CREDENTIAL_MALFORMED,
        )
    return INFO_PREFIX_V2 + manifest_hash + credential


def _check_key(raw: bytes, what: str) -> None:
    if not isinstance(raw, bytes) or len(raw) != KEY_LENGTH:
        raise SealRefused(
            f"the {what} key must be {KEY_LENGTH} raw bytes", code=ErrorCode.SEAL_KEY_MALFORMED
        )


def generate_keypair(rng: Callable[[int], bytes] = os.urandom) -> tuple[bytes, bytes]:
    """A fresh sealing key pair as ``(private_raw32, public_raw32)``.

    RFC 9180 §4 allows GenerateKeyPair as 32 random bytes for X25519 (clamping happens
    inside the DH function, RFC 7748 §5).
    """
    private_raw = rng(KEY_LENGTH)
    _check_key(private_raw, "private")
    private_key = x25519.X25519PrivateKey.from_private_bytes(private_raw)
    return private_raw, private_key.public_key().public_bytes_raw()


@lru_cache(maxsize=32)
def _private_key(private_key_raw32: bytes) -> x25519.X25519PrivateKey:
    # A verifier opens every ballot of an election with one key: load it once.
    return x25519.X25519PrivateKey.from_private_bytes(private_key_raw32)


def public_key_of(private_key_raw32: bytes) -> bytes:
    """The raw public key belonging to a raw private key."""
    _check_key(private_key_raw32, "private")
    return _private_key(private_key_raw32).public_key().public_bytes_raw()


def seal(
    public_key_raw32: bytes,
    manifest_hash: bytes,
    plaintext: bytes,
    credential: bytes | None = None,
) -> bytes:
    """Seal ``plaintext`` to the election's public key: ``enc || ct`` (RFC 9180 §6.1),
    bound to ``credential`` (raw 32 bytes) when given (``seal_info``)."""
    _check_key(public_key_raw32, "public")
    info = seal_info(manifest_hash, credential)
    public_key = x25519.X25519PublicKey.from_public_bytes(public_key_raw32)
    try:
        return SUITE.encrypt(plaintext, public_key, info=info)
    except ValueError:
        # A low-order public key gives an all-zero shared secret (RFC 9180 §7.1.4).
        raise SealRefused(
            "the sealing public key is not usable", code=ErrorCode.SEAL_KEY_MALFORMED
        ) from None


def open_sealed(
    private_key_raw32: bytes,
    manifest_hash: bytes,
    sealed: bytes,
    credential: bytes | None = None,
) -> bytes:
    """Open ``enc || ct`` with the election's private key, or raise ``SealRefused``.

    Every failure -- too short, a bad ephemeral key, a wrong key, election or
    credential, any changed byte -- is the same refusal: the AEAD tag (RFC 9180 §5.2)
    decides.
    """
    _check_key(private_key_raw32, "private")
    info = seal_info(manifest_hash, credential)
    if not isinstance(sealed, bytes) or len(sealed) < ENC_LENGTH + TAG_LENGTH:
        raise SealRefused("the sealed ballot is too short", code=ErrorCode.SEAL_REFUSED)
    private_key = _private_key(private_key_raw32)
    try:
        return SUITE.decrypt(sealed, private_key, info=info)
    except (InvalidTag, ValueError):
        raise SealRefused(
            "the sealed ballot does not open under this key and election",
            code=ErrorCode.SEAL_REFUSED,
        ) from None
