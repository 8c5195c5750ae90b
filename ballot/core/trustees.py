"""The shapes of an election's trustees: the configuration's block and the manifest's.

docs/protocol.md §14.2 (configuration) and §14.5 (manifest). The cryptography lives in
``ballot.core.dkg`` (the ceremony) and ``ballot.core.threshold`` (the close); this
module holds only the msgspec structs and the checks of their shape that need no key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated

import msgspec

__all__ = [
    "MAX_TRUSTEES",
    "MAX_TRUSTEE_NAME",
    "ManifestTrustee",
    "ManifestTrustees",
    "TrusteeMember",
    "TrusteePok",
    "TrusteesConfig",
    "trustees_problems",
]

MAX_TRUSTEES = 16
MAX_TRUSTEE_NAME = 100

Key32 = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{43}$")]  # 32 bytes, base64url
Signature = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{86}$")]  # 64 bytes
HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
_B64_32 = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")  # canonical 32-byte base64url


class TrusteeMember(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A trustee as the configuration names them: a name, an Ed25519 signing key and an
    X25519 box key (raw 32 bytes each, base64url)."""

    name: str
    signing_key: str
    box_key: str


class TrusteesConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``k`` of the ``n`` members (1 <= k <= n <= 16) release their key shares at the close."""

    threshold: int
    members: list[TrusteeMember]


class TrusteePok(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A Schnorr proof of knowledge of a dealer's constant coefficient (§14.3)."""

    commitment: Key32
    response: Key32


class ManifestTrustee(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A member in the manifest: who, and what the ceremony fixed for them (§14.5)."""

    name: str
    signing_key: Key32
    box_key: Key32
    commitments: list[Key32]
    pok: TrusteePok
    public_share: Key32
    ack_signature: Signature


class ManifestTrustees(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The manifest's ``trustees`` block (§14.5)."""

    threshold: int
    transcript: HashHex
    members: list[ManifestTrustee]


def _name_problem(name: str) -> str | None:
    if not 1 <= len(name) <= MAX_TRUSTEE_NAME or not name.strip():
        return f"a trustee's name is 1 to {MAX_TRUSTEE_NAME} characters"
    if name != name.strip():
        return "a trustee's name may not start or end with white space"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        return "a trustee's name may not contain control characters"
    return None


def trustees_problems(
    threshold: int, members: Sequence[TrusteeMember | ManifestTrustee]
) -> list[tuple[str, str, str]]:
    """Every problem of a trustees block's threshold and members as ``(field, code,
    detail)`` with fields under ``trustees.``; empty when the block is usable."""
    out: list[tuple[str, str, str]] = []
    n = len(members)
    if not 1 <= n <= MAX_TRUSTEES:
        out.append(
            ("trustees.members", "bad_trustees", f"an election has 1 to {MAX_TRUSTEES} trustees")
        )
    if not 1 <= threshold <= max(n, 1):
        out.append(
            (
                "trustees.threshold",
                "bad_threshold",
                f"the threshold must be between 1 and the number of trustees ({n})",
            )
        )
    seen: dict[str, int] = {}
    for i, member in enumerate(members):
        problem = _name_problem(member.name)
        if problem is not None:
            out.append((f"trustees.members[{i}].name", "bad_trustee_name", problem))
        for field in ("signing_key", "box_key"):
            value = getattr(member, field)
            where = f"trustees.members[{i}].{field}"
            if _B64_32.fullmatch(value) is None:
                out.append((where, "bad_key", f"{field} must be 32 bytes of unpadded base64url"))
            elif value in seen:
                out.append(
                    (
                        where,
                        "duplicate_trustee_key",
                        f"this key is already used by trustees.members[{seen[value]}]",
                    )
                )
            seen.setdefault(value, i)
    return out
