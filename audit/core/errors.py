"""Exceptions raised by the audit log's pure core (docs/protocol.md §3).

Every error carries a short machine ``code`` (stable, for programs and reports), a
human ``detail`` sentence (for people) and, on its class, the HTTP ``status`` it stands
for (400: a request's bytes were refused). The composition root maps them to HTTP
responses once, by class; the core never returns ``None`` to mean failure.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuditError",
    "CanonicalError",
    "ChainBroken",
    "EntryRejected",
    "ExportError",
    "NoteError",
    "ProofError",
]


class AuditError(Exception):
    """Base of every error the audit core raises."""

    status: ClassVar[int] = 400
    code: str = "audit_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class CanonicalError(AuditError, ValueError):
    """Bytes or a value that are not canonical JSON in Veche's RFC 8785 subset."""

    code = "not_canonical"


class ProofError(AuditError, ValueError):
    """A Merkle inclusion or consistency proof that is malformed or does not verify."""

    code = "bad_proof"


class NoteError(AuditError, ValueError):
    """A signed note or checkpoint that is malformed or whose signature fails."""

    code = "bad_note"


class ChainBroken(AuditError):
    """An entry whose ``seq`` or ``prev`` does not continue the hash chain."""

    code = "chain_broken"


class ExportError(AuditError):
    """An exported log directory that is missing files or is malformed."""

    code = "bad_export"


class EntryRejected(AuditError, ValueError):
    """An entry (or its body) that the kind registry refuses."""

    code = "entry_rejected"

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail, code=code)
