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

from kernel.markers import N_

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
SafeInt = Annotated[int, msgspec.Meta(ge=-(2**53 - 1), le=2**53 - 1)]
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

    threshold: SafeInt
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

    threshold: SafeInt
    transcript: HashHex
    members: list[ManifestTrustee]


BAD_COUNT = N_("An election has 1 to 16 trustees.")
BAD_THRESHOLD = N_("The threshold must be at least 1 and at most the number of trustees.")
BAD_NAME = N_(
    "A trustee's name is 1 to 100 characters, without spaces around it or control characters."
)
BAD_KEY = N_("A trustee's key is 32 bytes written in unpadded base64url.")
DUPLICATE_KEY = N_("Every key of every trustee must be different.")
BAD_COMMITMENTS = N_("Every trustee has as many commitments as the threshold.")


def _name_ok(name: str) -> bool:
    return (
        1 <= len(name) <= MAX_TRUSTEE_NAME
        and name == name.strip()
        and not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name)
    )


def trustees_problems(
    threshold: int, members: Sequence[TrusteeMember | ManifestTrustee]
) -> list[tuple[str, str, str]]:
    """Every problem of a trustees block's threshold and members as ``(field, code,
    detail)`` with fields under ``trustees.`` (docs/protocol.md §14.2); empty when the
    block is usable. The details are fixed sentences with translations."""
    out: list[tuple[str, str, str]] = []
    n = len(members)
    if not 1 <= n <= MAX_TRUSTEES:
        out.append(("trustees.members", "bad_trustees", BAD_COUNT))
    if not 1 <= threshold <= max(n, 1):
        out.append(("trustees.threshold", "bad_threshold", BAD_THRESHOLD))
    seen: set[str] = set()
    for i, member in enumerate(members):
        if not _name_ok(member.name):
            out.append((f"trustees.members[{i}].name", "bad_trustee_name", BAD_NAME))
        for field in ("signing_key", "box_key"):
            value = getattr(member, field)
            where = f"trustees.members[{i}].{field}"
            if _B64_32.fullmatch(value) is None:
                out.append((where, "bad_key", BAD_KEY))
            elif value in seen:
                out.append((where, "duplicate_trustee_key", DUPLICATE_KEY))
            seen.add(value)
        if isinstance(member, ManifestTrustee) and len(member.commitments) != threshold:
            out.append((f"trustees.members[{i}].commitments", "bad_commitments", BAD_COMMITMENTS))
    return out
