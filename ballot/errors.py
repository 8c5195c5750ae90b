"""Typed errors raised by the ballot package's cryptographic core.

Each error carries a stable machine ``code`` (what a client or the HTTP error handler
matches on) and a ``detail`` sentence for people. The core raises them and never
returns ``None`` to mean failure; the application maps them to responses in one place.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable machine codes; RFC 9474 and RFC 8017 name most of these failures."""

    MESSAGE_TOO_LONG = "message_too_long"
    ENCODING_ERROR = "encoding_error"
    INVALID_INPUT = "invalid_input"
    BLINDING_ERROR = "blinding_error"
    MESSAGE_REPRESENTATIVE_OUT_OF_RANGE = "message_representative_out_of_range"
    UNEXPECTED_INPUT_SIZE = "unexpected_input_size"
    SIGNING_FAILURE = "signing_failure"
    INVALID_SIGNATURE = "invalid_signature"
    UNSUPPORTED_KEY = "unsupported_key"
    TOKEN_MALFORMED = "token_malformed"
    TOKEN_INVALID = "token_invalid"
    CREDENTIAL_MALFORMED = "credential_malformed"
    MANIFEST_HASH_MALFORMED = "manifest_hash_malformed"
    SEAL_KEY_MALFORMED = "seal_key_malformed"
    SEAL_REFUSED = "seal_refused"


class BallotCryptoError(Exception):
    """Base of every error of the ballot cryptographic core."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class BlindSignatureError(BallotCryptoError):
    """An RFC 9474 operation refused its input (client or server side)."""


class SigningFailure(BlindSignatureError):
    """The server's own signature did not check out (a fault): nothing may be answered."""


class TokenRefused(BallotCryptoError):
    """A credential token is malformed or does not verify for this credential and election."""


class SealRefused(BallotCryptoError):
    """A sealed ballot could not be opened: malformed, tampered with, or not for this key."""
