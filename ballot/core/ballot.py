"""The ballot envelope: what a voter casts, and the pure checks of casting.

docs/protocol.md, "Casting", "Credentials" and "Sealed until the close". A ballot is::

    {"credential": b64url raw Ed25519 public key (RFC 8032 §5.1.5),
     "election": hex manifest hash,
     "sealed": b64url HPKE enc || ct (RFC 9180, see ``ballot.seal``),
     "token": {"prefix": b64url 32 bytes, "signature": b64url RSA-PSS signature}}

and travels with ``signature``: Ed25519 by the credential over
``b"veche/ballot/v1\\n" || canonical(ballot)`` (RFC 8785 subset), base64url.

``check_ballot`` performs the casting checks in the order of docs/protocol.md,
"Casting", each failure with its own ``BallotRejected`` code: the manifest hash
(``wrong_election``), the window (``not_open_yet`` before ``opens_at``, ``closed`` from
``closes_at`` on -- open for ``opens_at <= now < closes_at``), the token (``bad_token``;
``bad_credential`` when the credential is not an Ed25519 key), the signature
(``bad_signature``), the seal (``bad_seal``), then the plaintext and choices
(``ballot.choices``). The envelope itself
is refused as ``malformed_ballot`` when it does not have this shape. Time is a
parameter; the only randomness (``make_ballot``'s nonce) is one too, except HPKE's
ephemeral key, which ``cryptography`` draws itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audit.core.canonical import CanonicalError, b64url_decode, b64url_encode, canonical_bytes
from ballot.core import seal
from ballot.core.choices import (
    NONCE_LENGTH,
    BallotConflict,
    BallotRejected,
    Choices,
    choices_json,
    parse_sealed_plaintext,
    sealed_plaintext,
    validate_choices,
)
from ballot.core.config import parse_time
from ballot.core.errors import ErrorCode, ManifestRejected, SealRefused, TokenRefused
from ballot.core.manifest import Manifest, load_credential_key, manifest_hash
from ballot.core.token import verify_token

__all__ = [
    "BALLOT_DOMAIN",
    "MAX_SEALED_LENGTH",
    "Ballot",
    "BallotRejected",
    "BallotToken",
    "ballot_bytes",
    "ballot_json",
    "check_ballot",
    "check_window",
    "make_ballot",
    "parse_ballot",
    "sign_ballot",
    "verify_ballot_signature",
]

BALLOT_DOMAIN = b"veche/ballot/v1\n"
SIGNATURE_LENGTH = 64
KEY_LENGTH = 32
MAX_SEALED_LENGTH = 65536  # far above any real ballot; refuses oversized bodies early

B64Url = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]+$")]
B64Key = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{43}$")]
HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]


class BallotToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The credential token (``ballot.token.Token``) as it is carried in a ballot."""

    prefix: B64Key
    signature: B64Url


class Ballot(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The envelope a voter casts. Fields in canonical (sorted) order."""

    credential: B64Key
    election: HashHex
    sealed: B64Url
    token: BallotToken


def parse_ballot(data: object) -> Ballot:
    """Read a ballot envelope strictly, or raise ``BallotRejected("malformed_ballot")``."""
    try:
        return msgspec.convert(data, Ballot, strict=True)
    except msgspec.ValidationError as exc:
        raise BallotRejected("malformed_ballot", f"the ballot is malformed: {exc}") from None


def ballot_json(ballot: Ballot) -> dict[str, Any]:
    """The ballot as its JSON object."""
    return {
        "credential": ballot.credential,
        "election": ballot.election,
        "sealed": ballot.sealed,
        "token": {"prefix": ballot.token.prefix, "signature": ballot.token.signature},
    }


def ballot_bytes(ballot: Ballot) -> bytes:
    """``canonical(ballot)``."""
    return canonical_bytes(ballot_json(ballot))


def _signing_input(ballot: Ballot) -> bytes:
    return BALLOT_DOMAIN + ballot_bytes(ballot)


def sign_ballot(credential_private_key: ed25519.Ed25519PrivateKey, ballot: Ballot) -> str:
    """The credential's Ed25519 signature of the ballot, base64url."""
    public_raw = credential_private_key.public_key().public_bytes_raw()
    if b64url_encode(public_raw) != ballot.credential:
        raise BallotRejected("credential_mismatch", "this key is not the ballot's credential")
    return b64url_encode(credential_private_key.sign(_signing_input(ballot)))


def _credential_key(ballot: Ballot) -> ed25519.Ed25519PublicKey:
    try:
        raw = b64url_decode(ballot.credential)
    except CanonicalError:
        raw = b""
    if len(raw) != KEY_LENGTH:
        raise BallotRejected("bad_credential", "the credential is not a base64url Ed25519 key")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def verify_ballot_signature(ballot: Ballot, signature: str) -> None:
    """Accept the credential's signature of ``ballot`` or raise ``BallotRejected``."""
    key = _credential_key(ballot)
    try:
        raw_sig = b64url_decode(signature) if isinstance(signature, str) else b""
    except CanonicalError:
        raw_sig = b""
    if len(raw_sig) != SIGNATURE_LENGTH:
        raise BallotRejected("bad_signature", "the signature is not 64 bytes of base64url")
    try:
        key.verify(raw_sig, _signing_input(ballot))
    except InvalidSignature:
        raise BallotRejected("bad_signature", "the ballot signature does not verify") from None


def check_window(manifest: Manifest, now: datetime) -> None:
    """Refuse ``now`` outside ``opens_at <= now < closes_at``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if now < parse_time(manifest.window.opens_at):
        raise BallotConflict("not_open_yet", f"voting opens at {manifest.window.opens_at}")
    if now >= parse_time(manifest.window.closes_at):
        raise BallotConflict("closed", f"voting closed at {manifest.window.closes_at}")


def _sealed_bytes(ballot: Ballot) -> bytes:
    try:
        sealed = b64url_decode(ballot.sealed)
    except CanonicalError:
        raise BallotRejected("bad_seal", "the sealed ballot is not base64url") from None
    if not seal.ENC_LENGTH + seal.TAG_LENGTH <= len(sealed) <= MAX_SEALED_LENGTH:
        raise BallotRejected("bad_seal", "the sealed ballot has an impossible length")
    return sealed


def check_ballot(
    manifest: Manifest,
    ballot: Ballot,
    signature: str,
    sealing_private_raw: bytes | None,
    now: datetime,
    *,
    credential_key: rsa.RSAPublicKey | None = None,
    election_hash: str | None = None,
) -> Choices | None:
    """The pure checks of casting, in the order of docs/protocol.md, "Casting"; returns
    the checked choices.

    With ``sealing_private_raw`` None the seal is only checked for shape and None is
    returned (who does not hold the key cannot read the choices). ``credential_key`` and
    ``election_hash`` may be passed when the caller has already derived them from
    ``manifest`` (they are not re-checked against it)."""
    expected = manifest_hash(manifest) if election_hash is None else election_hash
    if ballot.election != expected:
        raise BallotRejected("wrong_election", "the ballot names another election")
    check_window(manifest, now)
    key = load_credential_key(manifest) if credential_key is None else credential_key
    try:
        verify_token(
            key,
            ballot.credential,
            ballot.election,
            {"prefix": ballot.token.prefix, "signature": ballot.token.signature},
        )
    except TokenRefused as exc:
        if exc.code == ErrorCode.CREDENTIAL_MALFORMED:
            raise BallotRejected("bad_credential", exc.detail) from None
        raise BallotRejected("bad_token", exc.detail) from None
    verify_ballot_signature(ballot, signature)
    sealed = _sealed_bytes(ballot)
    if sealing_private_raw is None:
        return None
    if b64url_encode(seal.public_key_of(sealing_private_raw)) != manifest.sealing_key:
        raise ManifestRejected(
            "wrong_sealing_key", "the sealing key does not belong to this manifest", "sealing_key"
        )
    try:
        plaintext = seal.open_sealed(sealing_private_raw, bytes.fromhex(expected), sealed)
    except SealRefused as exc:
        raise BallotRejected("bad_seal", exc.detail) from None
    choices, _nonce = parse_sealed_plaintext(plaintext)
    return validate_choices(manifest, choices)


def make_ballot(
    manifest: Manifest,
    credential_private_key: ed25519.Ed25519PrivateKey,
    token: Mapping[str, object],
    choices: Choices | Mapping[str, Any],
    rng: Callable[[int], bytes],
) -> tuple[Ballot, str]:
    """Client side: check the choices, seal them with a fresh nonce from ``rng``, and
    return the signed ballot ``(ballot, signature)``."""
    if not isinstance(choices, Mapping):
        choices = choices_json(choices)
    checked = validate_choices(manifest, choices)
    election = manifest_hash(manifest)
    plaintext = sealed_plaintext(checked, rng(NONCE_LENGTH))
    try:
        sealing_public = b64url_decode(manifest.sealing_key)
    except CanonicalError:
        raise ManifestRejected("bad_key", "sealing_key is not base64url", "sealing_key") from None
    sealed = seal.seal(sealing_public, bytes.fromhex(election), plaintext)
    prefix, token_sig = token.get("prefix"), token.get("signature")
    if set(token) != {"prefix", "signature"} or not (
        isinstance(prefix, str) and isinstance(token_sig, str)
    ):
        raise BallotRejected("bad_token", 'a token is {"prefix": …, "signature": …}')
    ballot = Ballot(
        credential=b64url_encode(credential_private_key.public_key().public_bytes_raw()),
        election=election,
        sealed=b64url_encode(sealed),
        token=BallotToken(prefix=prefix, signature=token_sig),
    )
    return ballot, sign_ballot(credential_private_key, ballot)
