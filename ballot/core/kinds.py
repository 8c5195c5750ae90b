"""The log entry kinds of the voting protocol (docs/protocol.md, "The audit log",
"Elections and ballots", "Tally").

``ELECTION_KINDS`` maps each kind to its body struct (the composition root joins it with the
other packages' kinds into the log's ``EntryKinds``):

- ``election.opened`` -- ``{"manifest": <manifest>, "manifest_hash": hex, "signature":
  b64url}``: the manifest as its JSON object, its hash and the authority's Ed25519
  signature (``ballot.core.manifest.sign_manifest``). The body is refused unless the hash
  is the manifest's and the signature verifies under the key the manifest names.
- ``credential.issued`` -- ``{"commitment": hex, "election": hex}``: the manifest hash and
  an opaque commitment to the voter (HMAC-SHA256 of the voter id under a server secret, 32
  bytes, hex). No personal data.
- ``ballot.cast`` -- ``{"ballot": <ballot envelope>, "signature": b64url}``
  (``ballot.core.ballot``; a version-2 ballot carries ``counter`` and ``v``).
- ``election.closed`` -- ``{"checkpoint_root": hex, "checkpoint_size": n, "election":
  hex}`` and, for a close before the window's ``closes_at``, ``"reason": text``: the
  log's size and RFC 9162 root hash when voting closed; the ballots counted are the
  ``ballot.cast`` entries of this election with ``seq < checkpoint_size``. ``reason``
  is written only when there is one, so closes logged before it existed read back
  unchanged.
- ``election.key_share`` -- ``{"election": hex, "key_share": b64url, "signature": b64url,
  "trustee": j}``: trustee ``j``'s key share, released after the close, signed with the
  trustee's key (docs/protocol.md §14.6; checked by ``ballot.core.threshold``).
- ``election.unsealed`` -- ``{"election": hex, "sealing_private_key": b64url}``: the raw
  X25519 private key (RFC 9180 §7.1.2), so that anyone can open every ballot; in a
  trustee election ``{"election": hex, "sealing_scalar": b64url}`` instead: the joint
  key's scalar rebuilt from k key shares (§14.7).
- ``electorate.added`` -- ``{"commitments": [hex, …], "count": n, "election": hex,
  "reason": str}``: voters added to an open election's electorate (docs/protocol.md
  §4.18, §6.11), each as the commitment the manifest's electorate would hold for them,
  sorted and distinct; ``count`` is how many; ``reason`` says why (no personal data).
- ``result.published`` -- ``{"budget", "checkpoint_size", "counted", "election",
  "lot_secret", "options", "rule", "scores", "signature", "spent", "winners"}``: what the
  tally found over the ballots up to ``checkpoint_size`` (``counted`` of them), the lot
  secret the manifest committed to (b64url; in a trustee election the one derived at the
  close, §14.9), in a trustee election ``"spoiled": [{"code", "seq"}, …]`` (the ballots
  that did not open or broke the limits, §14.10), and the authority's Ed25519 signature over
  ``b"veche/result/v1\\n" || canonical(body without "signature")``. The rule's step-by-step
  trace is not logged: anyone recomputes it from the ballots. A survey's result has
  ``"rule": "survey"`` and ``"questions"``: each question's result (§19.3).
- ``survey.text_withheld`` -- a survey's free-text answer withheld, with the reason
  (``ballot.core.survey_kinds``, docs/protocol.md §19.5).

``ELIGIBILITY_KINDS`` holds the one kind about eligibility that names no election:

- ``resident.verified`` -- ``{"district": slug, "resident": PubId, "staff": PubId}``:
  staff checked documents and found the owner of account ``resident`` a resident of
  ``district`` (docs/protocol.md §4.17). No document data.

Bodies hold only strings, bounded integers, booleans, lists and objects with ASCII keys,
so they encode canonically. Signatures other than the manifest's are checked by the
verifier, which knows which keys to trust and holds the manifests the tokens need.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from audit.core.entry import AsciiKey, Count, EntryKinds, SafeInt
from ballot.core.ballot import Ballot
from ballot.core.config import to_json
from ballot.core.config_checks import validate_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import (
    Manifest,
    load_credential_key,
    manifest_hash,
    verify_manifest_signature,
    version_problem,
)
from ballot.core.survey_kinds import SURVEY_TEXT_WITHHELD, SurveyTextWithheld
from ballot.core.trustees import MAX_TRUSTEES

__all__ = [
    "BALLOT_CAST",
    "CLOSE_REASON_LENGTH",
    "CREDENTIAL_ISSUED",
    "ELECTION_CLOSED",
    "ELECTION_ENTRIES",
    "ELECTION_KEY_SHARE",
    "ELECTION_KINDS",
    "ELECTION_OPENED",
    "ELECTION_UNSEALED",
    "ELECTORATE_ADDED",
    "ELIGIBILITY_KINDS",
    "MAX_ADDED",
    "RESIDENT_VERIFIED",
    "RESULT_DOMAIN",
    "RESULT_PUBLISHED",
    "SURVEY_TEXT_WITHHELD",
    "BallotCast",
    "CredentialIssued",
    "ElectionClosed",
    "ElectionKeyShare",
    "ElectionOpened",
    "ElectionUnsealed",
    "ElectorateAdded",
    "ResidentVerified",
    "ResultPublished",
    "SpoiledBallot",
    "SurveyTextWithheld",
    "close_reason_problem",
    "result_message",
    "sign_result",
    "verify_result_signature",
]

ELECTION_OPENED = "election.opened"
CREDENTIAL_ISSUED = "credential.issued"
BALLOT_CAST = "ballot.cast"
ELECTION_CLOSED = "election.closed"
ELECTION_UNSEALED = "election.unsealed"
ELECTION_KEY_SHARE = "election.key_share"
RESULT_PUBLISHED = "result.published"
ELECTORATE_ADDED = "electorate.added"
RESIDENT_VERIFIED = "resident.verified"
# The most voters one electorate.added may add (a larger addition is several entries).
MAX_ADDED = 1000
RESULT_DOMAIN = b"veche/result/v1\n"

HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Key32 = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{43}$")]  # 32 bytes, base64url
Signature = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{86}$")]  # 64 bytes
CLOSE_REASON_LENGTH = 500
CloseReason = Annotated[str, msgspec.Meta(min_length=1, max_length=CLOSE_REASON_LENGTH)]


class ElectionOpened(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The manifest, frozen and signed: the election now exists."""

    manifest: Manifest
    manifest_hash: HashHex
    signature: Signature

    def __post_init__(self) -> None:
        # msgspec turns a ValueError raised here into a ValidationError naming the body.
        if manifest_hash(self.manifest) != self.manifest_hash:
            raise ValueError("manifest_hash is not the hash of the manifest")
        # Key sizes are policy (the service and the verifier decide); shape is checked here.
        problems = validate_config(self.manifest, allow_test_keys=True)
        if problems:
            raise ValueError(
                f"the manifest is not valid: {problems[0].field}: {problems[0].detail}"
            )
        mismatch = version_problem(self.manifest)
        if mismatch is not None:
            raise ValueError(f"the manifest is not valid: {mismatch[2]}: {mismatch[1]}")
        try:
            load_credential_key(self.manifest)
            authority = b64url_decode(self.manifest.authority_key)
            verify_manifest_signature(authority, self.manifest, self.signature)
        except (ManifestRejected, CanonicalError) as exc:
            raise ValueError(exc.detail) from None


class CredentialIssued(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A credential was issued; ``commitment`` names the voter only to the server."""

    election: HashHex
    commitment: HashHex


class BallotCast(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A ballot envelope and the credential's signature of it."""

    ballot: Ballot
    signature: Signature


class ElectionClosed(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Voting ended; the log's size and root at that moment fix which ballots count.

    ``reason``: why an administrator closed before ``closes_at`` (docs/protocol.md
    §4.7), written only for such a close: 1 to 500 characters, no control character,
    no surrounding whitespace."""

    election: HashHex
    checkpoint_size: Count
    checkpoint_root: HashHex
    reason: CloseReason | None = None

    def __post_init__(self) -> None:
        if self.reason is not None:
            problem = close_reason_problem(self.reason)
            if problem is not None:
                raise ValueError(problem)


class ElectionUnsealed(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """What opens the ballots, published after the close: the sealing private key, or
    in a trustee election the joint key's scalar (docs/protocol.md §14.7); exactly one."""

    election: HashHex
    sealing_private_key: Key32 | None = None
    sealing_scalar: Key32 | None = None

    def __post_init__(self) -> None:
        if (self.sealing_private_key is None) == (self.sealing_scalar is None):
            raise ValueError("an unsealing carries sealing_private_key or sealing_scalar")


class ElectionKeyShare(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A trustee's key share, released after the close (docs/protocol.md §14.6); its
    signature and its match with the manifest's public share are the verifier's (and
    the server's) to check."""

    election: HashHex
    trustee: Annotated[int, msgspec.Meta(ge=1, le=MAX_TRUSTEES)]
    key_share: Key32
    signature: Signature


# A survey question's result (docs/protocol.md §19.3): integers, counts by id, winners.
QuestionResult = dict[AsciiKey, SafeInt | dict[AsciiKey, SafeInt] | list[str]]


class SpoiledBallot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A ballot of a trustee election that did not open or broke the limits (§14.10)."""

    seq: Count
    code: Annotated[str, msgspec.Meta(pattern="^[a-z0-9_]{1,40}$")]


class ResultPublished(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A signed result: winners in selection order, money spent, per-project scores."""

    election: HashHex
    checkpoint_size: Count
    counted: Count
    rule: Annotated[str, msgspec.Meta(pattern="^[a-z0-9-]{1,40}$")]
    options: dict[AsciiKey, str]
    winners: list[str]
    budget: Count
    spent: Count
    scores: dict[AsciiKey, SafeInt]
    lot_secret: Key32
    signature: Signature
    # Only in a trustee election's result (docs/protocol.md §14.10), in seq order.
    spoiled: list[SpoiledBallot] | msgspec.UnsetType = msgspec.UNSET
    # Only in a survey's result (docs/protocol.md §19.3): each question's result.
    questions: dict[AsciiKey, QuestionResult] | msgspec.UnsetType = msgspec.UNSET


class ElectorateAdded(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Voters added to an open election's electorate, with the reason; no personal data."""

    election: HashHex
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    count: Count
    commitments: list[HashHex]

    def __post_init__(self) -> None:
        if self.count != len(self.commitments):
            raise ValueError("count is not the number of commitments")
        if not 1 <= self.count <= MAX_ADDED:
            raise ValueError(f"an addition holds 1 to {MAX_ADDED} commitments")
        if any(a >= b for a, b in zip(self.commitments, self.commitments[1:], strict=False)):
            raise ValueError("the commitments are not sorted and distinct")
        if not self.reason.strip() or any(ch < " " for ch in self.reason):
            raise ValueError("the reason is empty or holds a control character")


PubId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32,64}$")]
Slug = Annotated[str, msgspec.Meta(pattern="^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]


class ResidentVerified(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Staff verified the owner of account ``resident`` as a resident of ``district``."""

    district: Slug
    resident: PubId
    staff: PubId


ELECTION_KINDS: Mapping[str, type[msgspec.Struct]] = {
    ELECTION_OPENED: ElectionOpened,
    CREDENTIAL_ISSUED: CredentialIssued,
    BALLOT_CAST: BallotCast,
    ELECTION_CLOSED: ElectionClosed,
    ELECTION_UNSEALED: ElectionUnsealed,
    ELECTION_KEY_SHARE: ElectionKeyShare,
    RESULT_PUBLISHED: ResultPublished,
    ELECTORATE_ADDED: ElectorateAdded,
    SURVEY_TEXT_WITHHELD: SurveyTextWithheld,
}

ELIGIBILITY_KINDS: Mapping[str, type[msgspec.Struct]] = {RESIDENT_VERIFIED: ResidentVerified}

ELECTION_ENTRIES = EntryKinds(ELECTION_KINDS)
"""The election kinds alone: what reading an election's own entries back needs."""


def close_reason_problem(reason: str) -> str | None:
    """Why ``reason`` cannot be an early close's logged reason, or None."""
    if not reason or len(reason) > CLOSE_REASON_LENGTH:
        return f"the reason must be 1 to {CLOSE_REASON_LENGTH} characters"
    if reason != reason.strip():
        return "the reason may not start or end with white space"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in reason):
        return "the reason may not contain control characters"
    return None


def result_message(result: ResultPublished) -> bytes:
    """``b"veche/result/v1\\n" || canonical(result without its "signature")``."""
    body = to_json(result)
    del body["signature"]
    return RESULT_DOMAIN + canonical_bytes(body)


def sign_result(authority_private_key: ed25519.Ed25519PrivateKey, result: ResultPublished) -> str:
    """The authority's signature of ``result`` (its own ``signature`` field is ignored);
    put it in with ``msgspec.structs.replace(result, signature=...)``."""
    return b64url_encode(authority_private_key.sign(result_message(result)))


def verify_result_signature(authority_public_raw: bytes, result: ResultPublished) -> None:
    """Accept the result's signature under the authority key or raise ``ManifestRejected``
    with code ``bad_signature``."""
    try:
        raw = b64url_decode(result.signature)
        key = ed25519.Ed25519PublicKey.from_public_bytes(authority_public_raw)
        key.verify(raw, result_message(result))
    except (CanonicalError, InvalidSignature, ValueError):
        raise ManifestRejected("bad_signature", "the result signature does not verify") from None
