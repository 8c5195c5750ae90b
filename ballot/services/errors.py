"""Refusals of the election services, each class with the HTTP status it stands for.

Every refusal keeps the machine ``code`` and the ``detail`` sentence that clients see
(``ElectionStateConflict("not_open", "The election 'x' is draft.")``); the class says
only how the application answers (``status``). The application's one handler for
``kernel.errors.DomainError`` maps them by class.
"""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import DomainError

__all__ = [
    "BadCredentialRequest",
    "ElectionError",
    "ElectionNotFound",
    "ElectionRecordBroken",
    "ElectionStateConflict",
    "RollRejected",
    "TrusteeMessageRejected",
    "VoterNotAuthenticated",
    "VoterNotEligible",
]


class ElectionError(DomainError):
    """Base of the refusals about an election's state or a voter's rights; raise one of
    its subclasses, whose class carries the status."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)


class ElectionNotFound(ElectionError):
    """No such election (or not one residents may see yet), or no published result."""

    status: ClassVar[int] = 404


class ElectionStateConflict(ElectionError):
    """Not possible in the election's current state: it exists already, is not open or
    is closed, the window has passed, a credential or result exists already."""

    status: ClassVar[int] = 409


class RollRejected(ElectionError):
    """A voter roll that cannot be imported (every bad line is named)."""

    status: ClassVar[int] = 400


class BadCredentialRequest(ElectionError):
    """A credential request whose blinded message cannot be read."""

    status: ClassVar[int] = 400


class VoterNotAuthenticated(ElectionError):
    """A credential asked for without logging in or giving an access code."""

    status: ClassVar[int] = 401


class VoterNotEligible(ElectionError):
    """The voter may not vote in this election: not on its list of voters, or an access
    code that is not valid."""

    status: ClassVar[int] = 403


class TrusteeMessageRejected(ElectionError):
    """A trustee's dealing, acknowledgement or key share that does not check; the
    detail names the trustee (docs/protocol.md §14)."""

    status: ClassVar[int] = 422


class ElectionRecordBroken(ElectionError):
    """The log does not hold what the election needs (a fault to investigate, not the
    client's doing)."""

    status: ClassVar[int] = 500
