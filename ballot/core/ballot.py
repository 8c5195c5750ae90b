"""The ballot envelope: what a voter casts, and the pure checks of casting.

docs/protocol.md §7 ("Casting"), §6 ("Credentials") and §2.12 (sealing). A ballot of
version 2 (the elections whose manifest is version 2, every election opened since) is::

    {"counter": n (1 for the credential's first ballot, 2 for its second, ...),
     "credential": b64url raw Ed25519 public key (RFC 8032 §5.1.5),
     "election": hex manifest hash,
     "sealed": b64url HPKE enc || ct (RFC 9180, see ``ballot.core.seal``), bound to the
               election and to the credential,
     "token": {"prefix": b64url 32 bytes, "signature": b64url RSA-PSS signature},
     "v": 2}

and travels with ``signature``: Ed25519 by the credential over
``b"veche/ballot/v2\n" || canonical(ballot)`` (RFC 8785 subset), base64url. A ballot of
version 1 (elections whose manifest is version 1, opened before) has neither
``counter`` nor ``v``, is signed over ``b"veche/ballot/v1\n" || canonical(ballot)`` and
its seal is bound to the election only; it is still read so that old logs verify.

``check_ballot`` performs the casting checks in the order of docs/protocol.md §7.6,
each failure with its own ``BallotRejected`` code: the manifest hash
(``wrong_election``), the ballot's version against the manifest's
(``wrong_ballot_version``), the window (``not_open_yet`` before ``opens_at``,
``closed`` from ``closes_at`` on -- open for ``opens_at <= now < closes_at``), the token
(``bad_token``; ``bad_credential`` when the credential is not an Ed25519 key), the
signature (``bad_signature``), the seal (``bad_seal``), then the plaintext and choices
(``ballot.core.choices``). The envelope itself is refused as ``malformed_ballot`` when
it does not have this shape. Whether the counter is the credential's next one depends
on the ballots before it: the server checks it when it appends (``ballot.services
.casting``), the verifier over the log (``ballot.core.record``). Time is a parameter;
the only randomness (``make_ballot``'s nonce) is one too, except HPKE's ephemeral key,
which ``cryptography`` draws itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audit.core.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalError,
    b64url_decode,
    b64url_encode,
    canonical_bytes,
)
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
from ballot.core.manifest import Manifest, ballot_version_of, load_credential_key, manifest_hash
from ballot.core.token import verify_token

__all__ = [
    "BALLOT_DOMAIN",
    "BALLOT_DOMAIN_V2",
    "BALLOT_VERSION",
    "MAX_SEALED_LENGTH",
    "Ballot",
    "BallotRejected",
    "BallotToken",
    "ballot_bytes",
    "ballot_digest",
    "ballot_json",
    "ballot_version",
    "check_ballot",
    "check_window",
    "make_ballot",
    "parse_ballot",
    "sign_ballot",
    "verify_ballot_signature",
]

BALLOT_DOMAIN = b"veche/ballot/v1\n"
BALLOT_DOMAIN_V2 = b"veche/ballot/v2\n"
BALLOT_VERSION = 2  # what new elections take (their manifest's "v")
SIGNATURE_LENGTH = 64
KEY_LENGTH = 32
MAX_SEALED_LENGTH = 65536  # far above any real ballot; refuses oversized bodies early

B64Url = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]+$")]
B64Key = Annotated[str, msgspec.Meta(pattern="^[A-Za-z0-9_-]{43}$")]
HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
BallotCounter = Annotated[int, msgspec.Meta(ge=1, le=MAX_SAFE_INTEGER)]


class BallotToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The credential token (``ballot.token.Token``) as it is carried in a ballot."""

    prefix: B64Key
    signature: B64Url


class Ballot(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, omit_defaults=True
):
    """The envelope a voter casts. Fields in canonical (sorted) order.

    ``counter`` and ``v`` are written exactly in a version-2 ballot; a version-1 ballot
    has neither (so the bytes of old logs read back unchanged)."""

    counter: BallotCounter | None = None
    credential: B64Key
    election: HashHex
    sealed: B64Url
    token: BallotToken
    v: Literal[2] | None = None

    def __post_init__(self) -> None:
        # msgspec turns a ValueError here into a ValidationError naming the ballot.
        if (self.v is None) != (self.counter is None):
            raise ValueError(
                'a version-2 ballot has both "v": 2 and "counter"; a version-1 ballot neither'
            )


def ballot_version(ballot: Ballot) -> int:
    """1 or 2 (docs/protocol.md §7.3)."""
    return 1 if ballot.v is None else ballot.v


def parse_ballot(data: object) -> Ballot:
    """Read a ballot envelope strictly, or raise ``BallotRejected("malformed_ballot")``."""
    try:
        ballot = msgspec.convert(data, Ballot, strict=True)
    except msgspec.ValidationError as exc:
        raise BallotRejected("malformed_ballot", f"the ballot is malformed: {exc}") from None
    if isinstance(data, dict) and len(data) != len(ballot_json(ballot)):
        # "counter": null or "v": null: a member is written only when it has a value.
        raise BallotRejected(
            "malformed_ballot", 'the ballot is malformed: "counter" and "v" may not be null'
        )
    return ballot


def ballot_json(ballot: Ballot) -> dict[str, Any]:
    """The ballot as its JSON object."""
    value: dict[str, Any] = {
        "credential": ballot.credential,
        "election": ballot.election,
        "sealed": ballot.sealed,
        "token": {"prefix": ballot.token.prefix, "signature": ballot.token.signature},
    }
    if ballot.v is not None:
        value["counter"] = ballot.counter
        value["v"] = ballot.v
    return value


def ballot_bytes(ballot: Ballot) -> bytes:
    """``canonical(ballot)``."""
    return canonical_bytes(ballot_json(ballot))


def ballot_digest(ballot: Ballot, signature: str) -> str:
    """hex ``SHA-256(canonical({"ballot": ballot, "signature": signature}))``: the digest
    of the ``ballot.cast`` body (docs/protocol.md §7.9)."""
    body = {"ballot": ballot_json(ballot), "signature": signature}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def _signing_input(ballot: Ballot) -> bytes:
    domain = BALLOT_DOMAIN if ballot.v is None else BALLOT_DOMAIN_V2
    return domain + ballot_bytes(ballot)


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
    version = ballot_version(ballot)
    expected_version = ballot_version_of(manifest)
    if version != expected_version:
        raise BallotRejected(
            "wrong_ballot_version",
            f"this election takes ballots of version {expected_version}; this one is of "
            f"version {version}",
        )
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
    # Version 2: the seal is bound to the credential, so a payload copied from another
    # credential's ballot does not open (docs/protocol.md §2.12).
    bound = b64url_decode(ballot.credential) if version == 2 else None
    try:
        plaintext = seal.open_sealed(sealing_private_raw, bytes.fromhex(expected), sealed, bound)
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
    *,
    counter: int = 1,
) -> tuple[Ballot, str]:
    """Client side: check the choices, seal them with a fresh nonce from ``rng``, and
    return the signed ballot ``(ballot, signature)`` of the manifest's version.

    ``counter`` is the ballot's number among this credential's ballots (1 for the
    first); a version-1 election's ballots carry none, and it is ignored there."""
    if manifest.v >= 2 and (type(counter) is not int or not 1 <= counter <= MAX_SAFE_INTEGER):
        raise BallotRejected("malformed_ballot", "a ballot's counter is an integer from 1")
    if not isinstance(choices, Mapping):
        choices = choices_json(choices)
    checked = validate_choices(manifest, choices)
    election = manifest_hash(manifest)
    plaintext = sealed_plaintext(checked, rng(NONCE_LENGTH))
    try:
        sealing_public = b64url_decode(manifest.sealing_key)
    except CanonicalError:
        raise ManifestRejected("bad_key", "sealing_key is not base64url", "sealing_key") from None
    credential = credential_private_key.public_key().public_bytes_raw()
    version_2 = ballot_version_of(manifest) == 2
    sealed = seal.seal(
        sealing_public, bytes.fromhex(election), plaintext, credential if version_2 else None
    )
    prefix, token_sig = token.get("prefix"), token.get("signature")
    if set(token) != {"prefix", "signature"} or not (
        isinstance(prefix, str) and isinstance(token_sig, str)
    ):
        raise BallotRejected("bad_token", 'a token is {"prefix": …, "signature": …}')
    ballot = Ballot(
        counter=counter if version_2 else None,
        credential=b64url_encode(credential),
        election=election,
        sealed=b64url_encode(sealed),
        token=BallotToken(prefix=prefix, signature=token_sig),
        v=2 if version_2 else None,
    )
    return ballot, sign_ballot(credential_private_key, ballot)
