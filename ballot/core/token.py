"""Credential tokens: an election's blind signature on a voter's credential key.

docs/protocol.md §2.13 and §6 fix the exact bytes:

* message: ``canonical({"credential": <b64url Ed25519 public key>, "election": <manifest
  hash, lowercase hex>})`` -- e.g. ``{"credential":"…","election":"…"}``;
* it is signed with RSABSSA-SHA384-PSS-Randomized (RFC 9474 §5): the client prepares
  it with a 32-byte random prefix (RFC 9474 §4.1), blinds it (§4.3), the server signs
  blindly (§4.4) and the client finalizes (§4.5);
* token: ``{"prefix": b64url(32 bytes), "signature": b64url(RSA signature)}``, where the
  signature is a standard RSASSA-PSS signature (RFC 8017 §8.1; SHA-384, MGF1-SHA-384,
  48-byte salt) over ``prefix || message``. ``verify_token`` is just that verification
  (RFC 9474 §4.6), done by ``cryptography``, so any RSA library can check a token.

The election's name is inside the signed message, so a token for one election is
refused in every other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from cryptography.hazmat.primitives.asymmetric import rsa

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from audit.core.canonical import hex_decode as _hex_decode
from ballot.core import blind
from ballot.core.errors import BlindSignatureError, ErrorCode, TokenRefused

CREDENTIAL_KEY_LENGTH = 32  # raw Ed25519 public key
MANIFEST_HASH_LENGTH = 32  # SHA-256
TOKEN_VARIANT = blind.PSS_RANDOMIZED


class Token(TypedDict):
    """The token as it travels and is logged: base64url without padding."""

    prefix: str
    signature: str


@dataclass(frozen=True, slots=True, repr=False)
class ClientState:
    """What the client keeps between asking for a blind signature and unblinding it.

    Secret: with ``inv`` the server could link the token to the request.
    """

    prepared_msg: bytes  # prefix || message
    inv: bytes

    @property
    def prefix(self) -> bytes:
        return self.prepared_msg[: blind.PREFIX_LENGTH]

    @property
    def message(self) -> bytes:
        return self.prepared_msg[blind.PREFIX_LENGTH :]

    def __repr__(self) -> str:
        return "ClientState(…)"


def credential_message(credential_pub_b64: str, manifest_hash_hex: str) -> bytes:
    """The message a credential token signs, checked to name a key and an election."""
    try:
        key = b64url_decode(credential_pub_b64)
    except CanonicalError:
        raise TokenRefused(
            "the credential is not unpadded base64url", code=ErrorCode.CREDENTIAL_MALFORMED
        ) from None
    if len(key) != CREDENTIAL_KEY_LENGTH:
        raise TokenRefused(
            f"the credential must be a {CREDENTIAL_KEY_LENGTH}-byte Ed25519 public key",
            code=ErrorCode.CREDENTIAL_MALFORMED,
        )
    try:
        _hex_decode(manifest_hash_hex, length=MANIFEST_HASH_LENGTH)
    except CanonicalError:
        raise TokenRefused(
            "the election must be named by its manifest hash in lowercase hex",
            code=ErrorCode.MANIFEST_HASH_MALFORMED,
        ) from None
    return canonical_bytes({"credential": credential_pub_b64, "election": manifest_hash_hex})


def prepare_and_blind(
    public_key: rsa.RSAPublicKey, message: bytes, rng: blind.Rng = os.urandom
) -> tuple[blind.BlindedMessage, ClientState]:
    """Client, step 2: prefix, encode and blind ``message`` for the election's key."""
    prepared = blind.prepare(message, TOKEN_VARIANT, rng)
    blinded = blind.blind(public_key, prepared, TOKEN_VARIANT, rng)
    return blinded.blinded_msg, ClientState(prepared, blinded.inv)


def finalize(public_key: rsa.RSAPublicKey, client_state: ClientState, blind_sig: bytes) -> Token:
    """Client, step 3: unblind the server's answer into a token (refused if invalid)."""
    sig = blind.finalize(
        public_key, client_state.prepared_msg, blind_sig, client_state.inv, TOKEN_VARIANT
    )
    return Token(prefix=b64url_encode(client_state.prefix), signature=b64url_encode(sig))


def _token_bytes(token: object, modulus_length: int) -> tuple[bytes, bytes]:
    if not isinstance(token, Mapping) or set(token) != {"prefix", "signature"}:
        raise TokenRefused(
            'a token is an object with exactly "prefix" and "signature"',
            code=ErrorCode.TOKEN_MALFORMED,
        )
    prefix_text, signature_text = token["prefix"], token["signature"]
    if not isinstance(prefix_text, str) or not isinstance(signature_text, str):
        raise TokenRefused("token fields must be strings", code=ErrorCode.TOKEN_MALFORMED)
    try:
        prefix, signature = b64url_decode(prefix_text), b64url_decode(signature_text)
    except CanonicalError:
        raise TokenRefused(
            "token fields must be unpadded base64url", code=ErrorCode.TOKEN_MALFORMED
        ) from None
    if len(prefix) != blind.PREFIX_LENGTH:
        raise TokenRefused(
            f"the token prefix must be {blind.PREFIX_LENGTH} bytes", code=ErrorCode.TOKEN_MALFORMED
        )
    if len(signature) != modulus_length:
        raise TokenRefused(
            f"the token signature must be {modulus_length} bytes", code=ErrorCode.TOKEN_MALFORMED
        )
    return prefix, signature


def verify_token(
    public_key: rsa.RSAPublicKey,
    credential_pub_b64: str,
    manifest_hash_hex: str,
    token: object,
) -> None:
    """Accept ``token`` for this credential in this election, or raise ``TokenRefused``."""
    message = credential_message(credential_pub_b64, manifest_hash_hex)
    modulus_length = (public_key.key_size + 7) // 8
    prefix, signature = _token_bytes(token, modulus_length)
    try:
        blind.verify(public_key, prefix + message, signature, TOKEN_VARIANT)
    except BlindSignatureError:
        raise TokenRefused(
            "the token does not verify for this credential and election",
            code=ErrorCode.TOKEN_INVALID,
        ) from None
