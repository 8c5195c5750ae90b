"""Election manifests: the configuration frozen, hashed and signed at opening.

docs/protocol.md, "Elections and ballots" ("Manifest", "Credentials", "Sealed until the
close") and "Tally" (the lot). ``build_manifest`` adds to a checked ``ElectionConfig``
(``ballot.core.config``) what opening the election fixes (keys, the lot commitment, the
opening time) and gives the ``Manifest`` that is signed and logged.

Manifest layout -- the canonical JSON (RFC 8785 subset, ``audit.canonical``) of::

    {"authority_key": b64url raw Ed25519 public key (RFC 8032),
     "ballot": {"kind": "approval"|"cumulative"|"ordinal"|"choice", <its limits>},
     "budget": int, "credential_key": b64url SubjectPublicKeyInfo DER (RFC 5280 §4.1,
     RFC 8017 A.1.1) of the election's RSA key, "currency": str, "district": str,
     "eligibility": {"access_codes": bool, "residents": bool, "roll": bool},
     "id": str, "lot_commitment": hex SHA-256(lot secret), "opened_at": time,
     "projects": [{"cost": int, "id": str, "proposal": str|null, "title": str}, ...],
     "revoting": bool, "rsa_key_bits": int, "rule": {"name": <rule>, <its options>},
     "sealing_key": b64url raw X25519 public key (RFC 9180 §7.1.1), "tie_break": str,
     "title": str, "v": 2, "window": {"closes_at": time, "opens_at": time}}

``v`` is 2 for every election opened now: its ballots are of version 2 (a counter per
credential, the seal bound to the credential, docs/protocol.md §7.3). Manifests of
version 1, written before, are still read so that old logs verify under their rules.

Every field is written out, defaults included, so the bytes that are hashed are the
full value. The credential key is SPKI DER because that is what WebCrypto's
``importKey("spki", ...)`` and every RSA library read directly. Times are RFC 3339 UTC
to the second, ``YYYY-MM-DDTHH:MM:SSZ``.

The lot (docs/protocol.md, "Tally"): the manifest commits to ``SHA-256(lot secret)``; the
seed is ``SHA-256(b"veche/lot/v1" || secret || SHA-256(sig_1 || sig_2 || ...))`` where
``sig_i`` are the raw 64-byte Ed25519 signatures of the counted ballots in log order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from ballot.core.blind import check_election_key
from ballot.core.config import (
    REAL_KEY_BITS,
    ElectionConfig,
    format_time,
    parse_time,
    shape_error,
    to_json,
)
from ballot.core.config_checks import check_config
from ballot.core.errors import BlindSignatureError, ManifestRejected
from ballot.core.trustees import ManifestTrustees
from kernel.markers import N_

__all__ = [
    "LOT_DOMAIN",
    "LOT_SECRET_LENGTH",
    "MANIFEST_DOMAIN",
    "MANIFEST_VERSION",
    "TRUSTEES_MANIFEST_VERSION",
    "Manifest",
    "ballot_version_of",
    "build_manifest",
    "check_lot_secret",
    "load_credential_key",
    "lot_commitment",
    "lot_seed",
    "manifest_bytes",
    "manifest_dict",
    "manifest_hash",
    "parse_manifest",
    "sign_manifest",
    "trustees_of",
    "verify_manifest_signature",
]

MANIFEST_DOMAIN = b"veche/manifest/v1\n"
MANIFEST_VERSION: Literal[2] = 2  # what opening writes; 1 is still read (docs/protocol.md §1.4)
TRUSTEES_MANIFEST_VERSION: Literal[3] = 3  # a trustee election's (docs/protocol.md §14.5)
LOT_DOMAIN = b"veche/lot/v1"
LOT_SECRET_LENGTH = 32
RAW_KEY_LENGTH = 32  # Ed25519 and X25519 public keys
SIGNATURE_LENGTH = 64  # Ed25519

_HEX64 = re.compile(r"[0-9a-f]{64}")


class Manifest(ElectionConfig, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The configuration plus what opening fixes; its canonical JSON is the election.

    A trustee election (docs/protocol.md §14.5) is of version 3: ``trustees`` is the
    ceremony's block, ``sealing_key`` the X25519 form of the joint key, and there is no
    ``lot_commitment`` (its lot secret comes from the close, §14.9). Every other
    election has a ``lot_commitment`` and no ``trustees``."""

    credential_key: str
    sealing_key: str
    lot_commitment: str | msgspec.UnsetType = msgspec.UNSET
    authority_key: str
    opened_at: str
    trustees: ManifestTrustees | msgspec.UnsetType = msgspec.UNSET  # type: ignore[assignment]
    v: Literal[1, 2, 3] = MANIFEST_VERSION


def _spki(public_key: rsa.RSAPublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _raw32(value: bytes, field: str, what: str) -> str:
    if not isinstance(value, bytes) or len(value) != RAW_KEY_LENGTH:
        raise ManifestRejected("bad_key", f"the {what} must be {RAW_KEY_LENGTH} raw bytes", field)
    return b64url_encode(value)


def lot_commitment(secret: bytes) -> str:
    """The manifest's commitment to the lot secret: hex ``SHA-256(secret)``."""
    return hashlib.sha256(secret).hexdigest()


def lot_seed(secret: bytes, counted_signatures_in_log_order: Sequence[bytes]) -> bytes:
    """``SHA-256(b"veche/lot/v1" || secret || SHA-256(sig_1 || ... || sig_n))`` where the
    ``sig_i`` are the raw Ed25519 signature bytes (64 each, not base64) of the counted
    ballots, in the order of their ``ballot.cast`` entries in the log."""
    digest = hashlib.sha256(b"".join(counted_signatures_in_log_order)).digest()
    return hashlib.sha256(LOT_DOMAIN + secret + digest).digest()


def check_lot_secret(manifest: Manifest, secret: bytes) -> None:
    """Refuse a revealed lot secret that is not the one the manifest committed to (an
    election without trustees; a trustee election's is checked by ``ballot.core
    .record_trustees``)."""
    if len(secret) != LOT_SECRET_LENGTH or lot_commitment(secret) != manifest.lot_commitment:
        raise ManifestRejected(
            "bad_lot_secret", "the lot secret does not match the commitment", "lot_commitment"
        )


def ballot_version_of(manifest: Manifest) -> Literal[1, 2]:
    """The version of the ballots an election takes: 1 for a manifest of version 1, 2
    for versions 2 and 3 (a trustee election's ballots are the same, docs/protocol.md
    §14.5)."""
    return 1 if manifest.v == 1 else 2


def trustees_of(manifest: Manifest) -> ManifestTrustees | None:
    """The manifest's trustees block, or None for an election without trustees."""
    return None if isinstance(manifest.trustees, msgspec.UnsetType) else manifest.trustees


NOT_VERSION_3 = N_("A manifest with trustees is of version 3, and one of version 3 has trustees.")
LOT_WITH_TRUSTEES = N_(
    "A trustee election has no lot commitment: its lot is fixed at the close; "
    "any other election has one."
)


def version_problem(manifest: Manifest) -> tuple[str, str, str] | None:
    """``(code, detail, field)`` when the manifest's version, trustees and lot
    commitment do not go together (docs/protocol.md §14.5), or None."""
    trustees = trustees_of(manifest) is not None
    if trustees != (manifest.v == TRUSTEES_MANIFEST_VERSION):
        return "bad_manifest_version", NOT_VERSION_3, "v"
    if trustees == (not isinstance(manifest.lot_commitment, msgspec.UnsetType)):
        return "bad_lot_commitment", LOT_WITH_TRUSTEES, "lot_commitment"
    return None


def _trustee_fields(
    config: ElectionConfig,
    trustees: ManifestTrustees | Mapping[str, Any],
    sealing_public_raw: bytes | None,
) -> dict[str, Any]:
    # Imported here: the ceremony's cryptography is needed only to open such an election.
    from ballot.core.dkg import members_json
    from ballot.core.dkg_verify import check_manifest_trustees
    from ballot.core.group import x25519_of

    if isinstance(config.trustees, msgspec.UnsetType):
        raise ManifestRejected("bad_trustees", "the configuration names no trustees", "trustees")
    block = (
        trustees
        if isinstance(trustees, ManifestTrustees)
        else msgspec.convert(trustees, ManifestTrustees, strict=True)
    )
    if block.threshold != config.trustees.threshold or members_json(block.members) != members_json(
        config.trustees.members
    ):
        raise ManifestRejected(
            "bad_trustees", "the ceremony is not of the configured trustees", "trustees"
        )
    sealing = x25519_of(check_manifest_trustees(config.id, block))
    if sealing_public_raw is not None and sealing_public_raw != sealing:
        raise ManifestRejected(
            "wrong_sealing_key", "the sealing key is not the trustees' joint key", "sealing_key"
        )
    return {
        "trustees": block,
        "sealing_key": b64url_encode(sealing),
        "v": TRUSTEES_MANIFEST_VERSION,
    }


def build_manifest(
    config: ElectionConfig,
    credential_public_key: rsa.RSAPublicKey,
    sealing_public_raw: bytes | None,
    lot_secret: bytes | None,
    authority_public_raw: bytes,
    opened_at: datetime,
    *,
    allow_test_keys: bool = False,
    version: Literal[1, 2] = MANIFEST_VERSION,
    trustees: ManifestTrustees | Mapping[str, Any] | None = None,
) -> Manifest:
    """Freeze ``config`` into the manifest that opening the election publishes.

    An election with trustees passes the ceremony's block (``ballot.core.dkg
    .manifest_trustees``) as ``trustees`` and no lot secret; its manifest is of version
    3 and its sealing key the joint key's X25519 form (``sealing_public_raw``, if given,
    must be it). ``version`` 1 only reproduces manifests of the earlier format (test
    vectors)."""
    check_config(config, allow_test_keys=allow_test_keys)
    if not isinstance(credential_public_key, rsa.RSAPublicKey):
        raise ManifestRejected(
            "bad_credential_key", "the credential key must be RSA", "credential_key"
        )
    try:
        check_election_key(credential_public_key, allowed_bits=(config.rsa_key_bits,))
    except BlindSignatureError as exc:
        raise ManifestRejected("bad_credential_key", exc.detail, "credential_key") from None
    extra: dict[str, Any]
    if trustees is not None or not isinstance(config.trustees, msgspec.UnsetType):
        if trustees is None or lot_secret is not None:
            raise ManifestRejected(
                "bad_trustees",
                "a trustee election is opened with its ceremony and without a lot secret",
                "trustees",
            )
        extra = _trustee_fields(config, trustees, sealing_public_raw)
    else:
        if not isinstance(lot_secret, bytes) or len(lot_secret) != LOT_SECRET_LENGTH:
            raise ManifestRejected(
                "bad_lot_secret",
                f"the lot secret must be {LOT_SECRET_LENGTH} random bytes",
                "lot_commitment",
            )
        if sealing_public_raw is None:
            raise ManifestRejected("bad_key", "the sealing public key is missing", "sealing_key")
        extra = {
            "sealing_key": _raw32(sealing_public_raw, "sealing_key", "sealing public key"),
            "lot_commitment": lot_commitment(lot_secret),
            "v": version,
        }
    opened = format_time(opened_at)
    if parse_time(opened) >= parse_time(config.window.closes_at):
        raise ManifestRejected(
            "opened_after_close", "the election cannot open after it closes", "opened_at"
        )
    fields = msgspec.structs.asdict(config)
    if config.rsa_key_bits < REAL_KEY_BITS:
        # A key under 2048 bits is a test election's, and its manifest says so (§5.2).
        fields["test"] = True
    fields.update(extra)
    return Manifest(
        **fields,
        credential_key=b64url_encode(_spki(credential_public_key)),
        authority_key=_raw32(authority_public_raw, "authority_key", "authority public key"),
        opened_at=opened,
    )


def load_credential_key(manifest: Manifest) -> rsa.RSAPublicKey:
    """The election's RSA public key from the manifest's SPKI DER (unique encoding,
    ``rsa_key_bits`` bits, e = 65537)."""
    try:
        der = b64url_decode(manifest.credential_key)
        key = serialization.load_der_public_key(der)
    except (CanonicalError, ValueError):
        raise ManifestRejected(
            "bad_credential_key", "credential_key is not base64url SPKI DER", "credential_key"
        ) from None
    if not isinstance(key, rsa.RSAPublicKey) or _spki(key) != der:
        raise ManifestRejected(
            "bad_credential_key", "credential_key is not an RSA key in DER form", "credential_key"
        )
    try:
        check_election_key(key, allowed_bits=(manifest.rsa_key_bits,))
    except BlindSignatureError as exc:
        raise ManifestRejected("bad_credential_key", exc.detail, "credential_key") from None
    return key


def manifest_dict(manifest: Manifest) -> dict[str, Any]:
    """The manifest as the JSON object that is hashed and signed (every field written)."""
    value = to_json(manifest)
    assert isinstance(value, dict)
    return value


def manifest_bytes(manifest: Manifest) -> bytes:
    """``canonical(manifest)``."""
    return canonical_bytes(manifest_dict(manifest))


def manifest_hash(manifest: Manifest) -> str:
    """The election's identity: hex ``SHA-256(canonical(manifest))``."""
    return hashlib.sha256(manifest_bytes(manifest)).hexdigest()


def _check_opened(manifest: Manifest) -> None:
    try:
        opened = parse_time(manifest.opened_at)
    except ValueError as exc:
        raise ManifestRejected("bad_time", str(exc), "opened_at") from None
    if opened >= parse_time(manifest.window.closes_at):
        raise ManifestRejected(
            "opened_after_close", "the election cannot open after it closes", "opened_at"
        )


def _check_b64_key(value: str, field: str) -> None:
    try:
        raw = b64url_decode(value)
    except CanonicalError:
        raise ManifestRejected("bad_key", f"{field} is not unpadded base64url", field) from None
    if len(raw) != RAW_KEY_LENGTH:
        raise ManifestRejected("bad_key", f"{field} must be {RAW_KEY_LENGTH} bytes", field)


def parse_manifest(data: object, *, allow_test_keys: bool = False) -> Manifest:
    """Read a manifest strictly: its shape, every field written out (so the hash is over
    what was given), the configuration valid and the keys well formed."""
    try:
        manifest = msgspec.convert(data, Manifest, strict=True)
    except msgspec.ValidationError as exc:
        shape_error("malformed_manifest", "the manifest is malformed", exc, data)
    if manifest_dict(manifest) != data:
        raise ManifestRejected(
            "malformed_manifest", "a manifest must write out every field, defaults included"
        )
    check_config(manifest, allow_test_keys=allow_test_keys)
    load_credential_key(manifest)
    _check_b64_key(manifest.sealing_key, "sealing_key")
    _check_b64_key(manifest.authority_key, "authority_key")
    problem = version_problem(manifest)
    if problem is not None:
        raise ManifestRejected(*problem)
    if not isinstance(manifest.lot_commitment, msgspec.UnsetType) and (
        _HEX64.fullmatch(manifest.lot_commitment) is None
    ):
        raise ManifestRejected(
            "bad_lot_commitment", "lot_commitment is a lowercase hex SHA-256", "lot_commitment"
        )
    _check_opened(manifest)
    return manifest


def _signing_input(manifest: Manifest) -> bytes:
    return MANIFEST_DOMAIN + manifest_bytes(manifest)


def sign_manifest(authority_private_key: ed25519.Ed25519PrivateKey, manifest: Manifest) -> str:
    """Ed25519 over ``b"veche/manifest/v1\\n" || canonical(manifest)``, base64url."""
    public_raw = authority_private_key.public_key().public_bytes_raw()
    if b64url_encode(public_raw) != manifest.authority_key:
        raise ManifestRejected(
            "wrong_authority", "this key is not the manifest's authority key", "authority_key"
        )
    return b64url_encode(authority_private_key.sign(_signing_input(manifest)))


def verify_manifest_signature(authority_public_raw: bytes, manifest: Manifest, sig: str) -> None:
    """Accept ``sig`` as the authority's signature of ``manifest`` or raise
    ``ManifestRejected`` (``wrong_authority`` if the manifest names another key)."""
    if b64url_encode(authority_public_raw) != manifest.authority_key:
        raise ManifestRejected(
            "wrong_authority", "the manifest names another authority key", "authority_key"
        )
    try:
        raw_sig = b64url_decode(sig)
    except CanonicalError:
        raw_sig = b""
    if len(raw_sig) != SIGNATURE_LENGTH:
        raise ManifestRejected("bad_signature", "the signature is not 64 bytes of base64url")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(authority_public_raw).verify(
            raw_sig, _signing_input(manifest)
        )
    except (InvalidSignature, ValueError):
        raise ManifestRejected("bad_signature", "the manifest signature does not verify") from None
