"""Typed errors raised by the ballot package's cryptographic core.

Each error carries a stable machine ``code`` (what a client matches on), a ``detail``
sentence for people and, on its class, the HTTP ``status`` it stands for (400 unless
said otherwise). The core raises them and never returns ``None`` to mean failure; the
application maps them to responses in one place, by class.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    """Stable machine codes; RFC 9474 and RFC 8017 name most of these failures."""

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
    # Trustees (docs/protocol.md §14)
    BAD_SCALAR = "bad_scalar"
    BAD_POINT = "bad_point"
    BAD_DEALING = "bad_dealing"
    BAD_SHARE = "bad_share"
    BAD_ACK = "bad_ack"
    BAD_KEY_SHARE = "bad_key_share"
    BAD_TRUSTEES = "bad_trustees"


class BallotCryptoError(Exception):
    """Base of every error of the ballot cryptographic core.

    Same shape as the other packages' errors (``detail`` sentence, keyword ``code``,
    class-level ``status``), so the application's single error handler maps them by
    class.
    """

    status: ClassVar[int] = 400
    code: str = "ballot_crypto_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class BlindSignatureError(BallotCryptoError, ValueError):
    """An RFC 9474 operation refused its input (client or server side)."""

    code = ErrorCode.INVALID_INPUT


class SigningFailure(BallotCryptoError):
    """The server's own signature did not check out (a fault, not the client's doing).

    Nothing may be answered; the key or the machine needs attention.
    """

    status: ClassVar[int] = 500
    code = ErrorCode.SIGNING_FAILURE


class TokenRefused(BallotCryptoError, ValueError):
    """A credential token is malformed or does not verify for this credential and election."""

    code = ErrorCode.TOKEN_INVALID


class SealRefused(BallotCryptoError, ValueError):
    """A sealed ballot could not be opened: malformed, tampered with, or not for this key."""

    code = ErrorCode.SEAL_REFUSED


class ManifestRejected(BallotCryptoError, ValueError):
    """A configuration or manifest that cannot be used; ``field`` names where (a path
    such as ``projects[2].cost``, or ``""`` for the whole)."""

    code = "manifest_rejected"

    def __init__(self, code: str, detail: str, field: str = "") -> None:
        super().__init__(detail, code=code)
        self.field = field

    def __str__(self) -> str:
        where = f" ({self.field})" if self.field else ""
        return f"{self.code}{where}: {self.detail}"


class GroupError(BallotCryptoError, ValueError):
    """A scalar or point of the trustees' group was refused (docs/protocol.md §14.1)."""

    code = ErrorCode.BAD_POINT

    def __init__(self, detail: str, code: str = ErrorCode.BAD_POINT) -> None:
        super().__init__(detail, code=code)


class TrusteeRejected(BallotCryptoError, ValueError):
    """Something a trustee gave (a dealing, a share, an acknowledgement, a key share)
    was refused; ``trustee`` is that trustee's 1-based number (docs/protocol.md §14)."""

    status: ClassVar[int] = 422
    code = ErrorCode.BAD_TRUSTEES

    def __init__(self, trustee: int, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.trustee = trustee

    def __str__(self) -> str:
        return f"{self.code} (trustee {self.trustee}): {self.detail}"


class DealingRejected(TrusteeRejected):
    """A dealer's dealing does not check out: its signature, PoK, commitments or shares."""

    code = ErrorCode.BAD_DEALING

    @property
    def dealer(self) -> int:
        return self.trustee


class ShareRejected(TrusteeRejected):
    """The share a dealer sent to this trustee does not open or does not match the
    dealer's commitments."""

    code = ErrorCode.BAD_SHARE

    @property
    def dealer(self) -> int:
        return self.trustee


class AckRejected(TrusteeRejected):
    """A trustee's acknowledgement of the ceremony does not check out."""

    code = ErrorCode.BAD_ACK


class KeyShareRejected(TrusteeRejected):
    """A released key share does not check out against the trustee's public share."""

    code = ErrorCode.BAD_KEY_SHARE


class BallotRejected(BallotCryptoError, ValueError):
    """A ballot (its envelope, seal or choices) that cannot be counted; ``code`` says why."""

    code = "ballot_rejected"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)


class BallotConflict(BallotRejected):
    """A ballot refused for the election's state, not for what it holds: voting has not
    opened yet (``not_open_yet``) or has closed (``closed``), or the credential has voted
    in an election without re-voting (``already_voted``)."""

    status: ClassVar[int] = 409


class ClientError(Exception):
    """The server refused, or answered something the client cannot trust: the voter's
    client's refusal (``ballot.core.client``, ``receipt``, ``wallet``), with the HTTP
    ``status`` the server answered, if any. Not a server's error: never mapped to a
    response."""

    def __init__(self, code: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status
