"""The records the count reads and gives: an election's entries, its ballots, problems.

docs/protocol.md §9.3 and §14. Shared by ``ballot.core.record`` (which gathers and counts)
and ``ballot.core.record_trustees`` (a trustee election's own rules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ballot.core import kinds
from ballot.core.choices import Choices
from ballot.core.manifest import Manifest, trustees_of

__all__ = ["CastEntry", "Checked", "Count", "ElectionRecord", "Problem"]

# A checked ballot: seq, credential, choices json (None: refused or spoiled), code, detail.
Checked = tuple[int, str, dict[str, Any] | None, str, str]


@dataclass(frozen=True)
class Problem:
    """Something wrong in an election's record: the entry's ``seq`` (or None) and why."""

    seq: int | None
    code: str
    detail: str


@dataclass(frozen=True)
class CastEntry:
    seq: int
    at: str
    ballot: dict[str, Any]
    signature: str


@dataclass
class ElectionRecord:
    hash: str
    manifest: Manifest
    opened_seq: int
    issued: int = 0
    casts: list[CastEntry] = field(default_factory=list)
    closed_seq: int | None = None
    closed_at: str | None = None
    close_reason: str | None = None
    count_size: int | None = None
    sealing_private: bytes | None = None
    results: list[tuple[int, kinds.ResultPublished]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Trustee elections (docs/protocol.md §14): the close's root, the valid key shares
    # (trustee → (seq, s_j)) and the published sealing scalar.
    close_root: str | None = None
    key_shares: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    sealing_scalar: bytes | None = None
    # A survey's withheld texts (docs/protocol.md §19.5): (seq, body) in log order.
    withheld: list[tuple[int, kinds.SurveyTextWithheld]] = field(default_factory=list)

    def opening_key(self) -> bytes | None:
        """What opens the ballots: the sealing scalar of a trustee election, the
        sealing private key of any other; None until it is published."""
        if trustees_of(self.manifest) is not None:
            return self.sealing_scalar
        return self.sealing_private


@dataclass
class Count:
    """The outcome of counting: the ballots that count, and the ones refused.

    ``anomalies`` are problems of ballots that still count (a credential's counter that
    skipped numbers): an honest server never logs them, so they fail verification."""

    counted: list[tuple[int, str, Choices, str]]  # seq, credential, choices, signature
    rejected: list[Problem]
    superseded: int
    credentials: int
    anomalies: list[Problem] = field(default_factory=list)
    # A trustee election's ballots that did not open or broke the limits (§14.10).
    spoiled: list[Problem] = field(default_factory=list)
