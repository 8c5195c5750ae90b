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

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


# --- credentials derived from a recovery code (docs/protocol.md §6.13) ----------------------

RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols: no I, O, 0 or 1
RECOVERY_CODE_LENGTH = 28  # 28 symbols of 5 bits: 140 bits
RECOVERY_GROUP = 4  # shown as seven groups of four joined by "-"
RECOVERY_SALT = b"veche/recovery/v1\n"
_RECOVERY_SEPARATORS = frozenset(" -\t\r\n")


def new_recovery_code(rng: blind.Rng = os.urandom) -> str:
    """A fresh recovery code: 28 symbols drawn uniformly (one byte each, its low 5 bits)."""
    data = rng(RECOVERY_CODE_LENGTH)
    if len(data) != RECOVERY_CODE_LENGTH:
        raise ValueError(f"rng returned {len(data)} bytes instead of {RECOVERY_CODE_LENGTH}")
    symbols = "".join(RECOVERY_ALPHABET[b & 31] for b in data)
    return format_recovery_code(symbols)


def format_recovery_code(code: str) -> str:
    """The normalized code in groups of four: ``ABCD-EFGH-…``."""
    text = normalize_recovery_code(code)
    return "-".join(text[i : i + RECOVERY_GROUP] for i in range(0, len(text), RECOVERY_GROUP))


def normalize_recovery_code(text: str) -> str:
    """The 28 symbols of a recovery code as typed: upper case, spaces and dashes dropped.

    Refuses (``bad_recovery_code``) anything else, naming what is wrong, so that a typing
    mistake is found before a request is made.
    """
    symbols = "".join(ch for ch in text.upper() if ch not in _RECOVERY_SEPARATORS)
    wrong = sorted({ch for ch in symbols if ch not in RECOVERY_ALPHABET})
    if wrong:
        raise TokenRefused(
            f"a recovery code has no {' '.join(repr(ch) for ch in wrong)}: it is made of the "
            "letters A to Z without I and O, and the digits 2 to 9",
            code="bad_recovery_code",
        )
    if len(symbols) != RECOVERY_CODE_LENGTH:
        raise TokenRefused(
            f"a recovery code has {RECOVERY_CODE_LENGTH} letters and digits, this one "
            f"{len(symbols)}",
            code="bad_recovery_code",
        )
    return symbols


def recovery_bytes(code: str, manifest_hash_hex: str, label: bytes, length: int) -> bytes:
    """``HKDF-SHA256(IKM = code, salt = "veche/recovery/v1\\n", info = manifest hash || label)``."""
    try:
        election = _hex_decode(manifest_hash_hex, length=MANIFEST_HASH_LENGTH)
    except CanonicalError:
        raise TokenRefused(
            "the election must be named by its manifest hash in lowercase hex",
            code=ErrorCode.MANIFEST_HASH_MALFORMED,
        ) from None
    ikm = normalize_recovery_code(code).encode("ascii")
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=RECOVERY_SALT, info=election + label
    ).derive(ikm)


def recovery_seed(code: str, manifest_hash_hex: str) -> bytes:
    """The credential's 32-byte Ed25519 private key (seed) for this code and election."""
    return recovery_bytes(code, manifest_hash_hex, b"credential", 32)


def recovery_blind(
    public_key: rsa.RSAPublicKey, message: bytes, code: str, manifest_hash_hex: str
) -> tuple[blind.BlindedMessage, ClientState]:
    """Prepare and blind ``message`` (RFC 9474 §4.1, §4.3) with values derived from the code.

    The prefix, the PSS salt and the blinding factor ``r`` come from the code, so every
    device that holds the code makes the byte-identical request. ``r`` is the first
    candidate ``OS2IP(recovery_bytes("blind" || I2OSP(i, 4), k))``, ``i = 0, 1, …``, with
    ``1 <= r < n`` and ``gcd(r, n) = 1``; then ``inv = r^-1 mod n``.
    """
    numbers = public_key.public_numbers()
    n, e = numbers.n, numbers.e
    k = (n.bit_length() + 7) // 8
    prefix = recovery_bytes(code, manifest_hash_hex, b"prefix", blind.PREFIX_LENGTH)
    salt = recovery_bytes(code, manifest_hash_hex, b"salt", TOKEN_VARIANT.salt_length)
    prepared = prefix + message
    encoded = blind.emsa_pss_encode(
        prepared, n.bit_length() - 1, TOKEN_VARIANT.salt_length, lambda _: salt
    )
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, n) != 1:
        raise BlindSignatureError(
            "the encoded message is not coprime to the modulus", code=ErrorCode.INVALID_INPUT
        )
    counter = 0
    while True:
        label = b"blind" + counter.to_bytes(4, "big")
        r = int.from_bytes(recovery_bytes(code, manifest_hash_hex, label, k), "big")
        if 1 <= r < n and math.gcd(r, n) == 1:
            break
        counter += 1
    inv = pow(r, -1, n)
    z = m * pow(r, e, n) % n
    return blind.BlindedMessage(z.to_bytes(k, "big")), ClientState(prepared, inv.to_bytes(k, "big"))
