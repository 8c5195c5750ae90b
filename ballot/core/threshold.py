"""The close of a trustee election: key shares, the sealing scalar, the lot secret.

docs/protocol.md §14.6-§14.9. After ``election.closed`` each trustee ``j`` releases its
key share ``s_j`` in an ``election.key_share`` entry signed with its signing key; a share
is valid iff the signature verifies and ``s_j·B == P_j`` (the public share the manifest
commits). Any k valid shares give ``s = Σ λ_j·s_j`` (Lagrange interpolation at 0 over
the scalars mod L), the scalar of the joint key, which opens every ballot
(``ballot.core.hpke_scalar``) and, with the log's root at the close, fixes the lot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from ballot.core import group
from ballot.core.errors import GroupError, KeyShareRejected
from ballot.core.hpke_scalar import open_with_scalar
from ballot.core.trustees import ManifestTrustees

__all__ = [
    "KEY_SHARE_DOMAIN",
    "LOT_TRUSTEES_DOMAIN",
    "check_key_share",
    "key_share_message",
    "lagrange_at_zero",
    "lot_secret",
    "open_sealed_with_scalar",
    "reconstruct",
    "sign_key_share",
    "trustees_block",
]

KEY_SHARE_DOMAIN = b"veche/trustee/key-share/v1\n"
LOT_TRUSTEES_DOMAIN = b"veche/lot/trustees/v1"
ROOT_LENGTH = 32


def trustees_block(value: ManifestTrustees | Mapping[str, Any]) -> ManifestTrustees:
    """A manifest's trustees block as its struct (a JSON mapping is read strictly)."""
    if isinstance(value, ManifestTrustees):
        return value
    return msgspec.convert(value, ManifestTrustees, strict=True)


def key_share_message(manifest_hash_hex: str, trustee: int, key_share: group.Scalar) -> bytes:
    """``"veche/trustee/key-share/v1\\n" || canonical({"election", "key_share",
    "trustee"})``: what trustee ``trustee`` signs when releasing its share."""
    body = {
        "election": manifest_hash_hex,
        "key_share": b64url_encode(key_share),
        "trustee": trustee,
    }
    return KEY_SHARE_DOMAIN + canonical_bytes(body)


def sign_key_share(
    manifest_hash_hex: str, trustee: int, key_share: group.Scalar, signing_private_raw32: bytes
) -> dict[str, Any]:
    """The body of trustee ``trustee``'s ``election.key_share`` entry (§14.6)."""
    group.check_scalar(key_share, "key share")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(signing_private_raw32)
    signature = key.sign(key_share_message(manifest_hash_hex, trustee, key_share))
    return {
        "election": manifest_hash_hex,
        "key_share": b64url_encode(key_share),
        "signature": b64url_encode(signature),
        "trustee": trustee,
    }


def check_key_share(
    body: Mapping[str, Any],
    block: ManifestTrustees | Mapping[str, Any],
    *,
    election: str | None = None,
) -> group.Scalar:
    """The key share of an ``election.key_share`` body once it checks out (§14.6):
    a member's number, the member's signature, ``s_j·B == P_j``; and, given
    ``election``, that the body is of that election. Otherwise ``KeyShareRejected``
    (``bad_key_share``) naming the trustee."""
    trustees = trustees_block(block)
    trustee = body.get("trustee")
    if not isinstance(trustee, int) or isinstance(trustee, bool):
        raise KeyShareRejected(0, "the key share does not name a trustee")
    if not 1 <= trustee <= len(trustees.members):
        raise KeyShareRejected(trustee, "the key share names no trustee of this election")
    if election is not None and body.get("election") != election:
        raise KeyShareRejected(trustee, "the key share is of another election")
    member = trustees.members[trustee - 1]
    try:
        share = group.check_scalar(b64url_decode(body["key_share"]), "key share")
        message = key_share_message(str(body["election"]), trustee, share)
        signature = b64url_decode(body["signature"])
    except (CanonicalError, GroupError, KeyError, TypeError):
        raise KeyShareRejected(trustee, "the key share entry is malformed") from None
    try:
        key = ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(member.signing_key))
        key.verify(signature, message)
    except (CanonicalError, InvalidSignature, ValueError):
        raise KeyShareRejected(trustee, "the key share's signature does not verify") from None
    try:
        matches = b64url_encode(group.base_mul(share)) == member.public_share
    except GroupError:
        matches = False
    if not matches:
        raise KeyShareRejected(trustee, "the key share is not the one the ceremony committed")
    return share


def lagrange_at_zero(indices: list[int], j: int) -> int:
    """``λ_j = Π_{m ≠ j} m / (m - j) mod L`` over ``indices`` (distinct, 1..255)."""
    numerator, denominator = 1, 1
    for m in indices:
        if m != j:
            numerator = numerator * m % group.L
            denominator = denominator * (m - j) % group.L
    return numerator * pow(denominator, -1, group.L) % group.L


def reconstruct(shares: Mapping[int, group.Scalar]) -> group.Scalar:
    """``s = Σ λ_j·s_j``: the secret of the polynomial through the given shares (as
    many as the threshold: more give the same value, fewer give an unrelated one)."""
    if not shares:
        raise GroupError("no key share to rebuild from", "bad_key_share")
    indices = sorted(shares)
    if any(not 1 <= j <= 255 for j in indices):
        raise GroupError("a trustee number is out of range", "bad_key_share")
    total = sum(lagrange_at_zero(indices, j) * group.scalar_to_int(shares[j]) for j in indices)
    return group.scalar_from_int(total)


def open_sealed_with_scalar(s: group.Scalar, sealed: bytes, info: bytes) -> bytes:
    """Open a ballot sealed to ``u(s·B)`` (``hpke_scalar.open_with_scalar``)."""
    return open_with_scalar(s, sealed, info)


def lot_secret(s: group.Scalar, checkpoint_root_raw: bytes) -> bytes:
    """``SHA-256("veche/lot/trustees/v1" || s || checkpoint_root)`` (§14.9): the lot
    secret of a trustee election, fixed only when k trustees have released."""
    group.check_scalar(s, "sealing scalar")
    if not isinstance(checkpoint_root_raw, bytes) or len(checkpoint_root_raw) != ROOT_LENGTH:
        raise GroupError("the checkpoint root is 32 raw bytes", "bad_lot_secret")
    return hashlib.sha256(LOT_TRUSTEES_DOMAIN + s + checkpoint_root_raw).digest()
