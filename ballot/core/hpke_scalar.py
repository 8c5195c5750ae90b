"""Opening an HPKE seal with the joint key's scalar instead of an X25519 private key.

docs/protocol.md §14.8. A trustee election's ``sealing_key`` is the X25519 form
``u(P)`` of the joint key ``P = s·B`` (``ballot.core.group``). A sender computed
``X25519(e, u(P)) = u(clamp(e)·s·B) = u(s·E)`` where ``E = clamp(e)·B`` has u-coordinate
``enc``. Whoever holds ``s`` therefore lifts ``enc`` to a point ``E'`` (either sign) and
gets the same Diffie-Hellman value ``u(s·E')``. The rest is RFC 9180 written out: DHKEM
``ExtractAndExpand`` (§4.1) with ``kem_context = enc || pkR``, the base-mode key schedule
(§5.1) and AES-128-GCM at sequence 0 with empty associated data (§5.2), for the suite
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM (§7).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ballot.core import group
from ballot.core.errors import ErrorCode, GroupError, SealRefused

__all__ = [
    "dh_by_edwards",
    "dh_with_scalar",
    "extract_and_expand",
    "key_and_nonce",
    "open_with_scalar",
]

KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0001
KEM_SUITE_ID = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE_ID = b"HPKE" + b"".join(i.to_bytes(2, "big") for i in (KEM_ID, KDF_ID, AEAD_ID))
NK, NN, NSECRET = 16, 12, 32
ENC_LENGTH, TAG_LENGTH = 32, 16
MODE_BASE = b"\x00"


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled_info = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    return _expand(prk, labeled_info, length)


def extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
    """RFC 9180 §4.1 ``ExtractAndExpand``: the KEM's shared secret."""
    eae_prk = _labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh)
    return _labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, NSECRET)


def key_and_nonce(shared_secret: bytes, info: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 §5.1 ``KeySchedule`` in base mode (empty psk and psk_id): the AEAD key
    and base nonce."""
    psk_id_hash = _labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", info)
    context = MODE_BASE + psk_id_hash + info_hash
    secret = _labeled_extract(HPKE_SUITE_ID, shared_secret, b"secret", b"")
    key = _labeled_expand(HPKE_SUITE_ID, secret, b"key", context, NK)
    base_nonce = _labeled_expand(HPKE_SUITE_ID, secret, b"base_nonce", context, NN)
    return key, base_nonce


def dh_by_edwards(s: group.Scalar, enc: bytes) -> bytes:
    """``u(s·E)`` computed on Edwards25519 (the definition, §14.8)."""
    return group.x25519_of(group.mul(s, group.edwards_of_u(enc)))


_INVERSE_OF_8 = pow(8, -1, group.L)


@lru_cache(maxsize=32)
def _x25519_key(s: group.Scalar) -> x25519.X25519PrivateKey | None:
    """An X25519 private key ``k`` with ``clamp(k) ≡ ±s (mod L)``, or None (for a
    fraction of about 2^-126 of the scalars).

    ``clamp(k)`` is ``8m`` with ``2^251 <= m < 2^252``; for a point of order L,
    ``u(8m·E) = u(s·E)`` when ``8m ≡ ±s``. So the X25519 function -- one Montgomery
    ladder, as fast as any HPKE opening -- gives the same value as the definition."""
    value = group.scalar_to_int(s)
    for target in (value, group.L - value):
        m = target * _INVERSE_OF_8 % group.L
        if 2**251 <= m < 2**252:
            return x25519.X25519PrivateKey.from_private_bytes((8 * m).to_bytes(32, "little"))
    return None


def dh_with_scalar(s: group.Scalar, enc: bytes) -> bytes:
    """``u(s·E')`` where ``E'`` is the point of ``enc``'s u-coordinate: the X25519
    value a sender computed against ``u(s·B)``. ``GroupError`` if ``enc`` is no such
    point (checked first, so that the fast path below never sees another)."""
    group.edwards_of_u(enc)
    key = _x25519_key(s)
    if key is None:
        return dh_by_edwards(s, enc)
    return key.exchange(x25519.X25519PublicKey.from_public_bytes(enc))


@lru_cache(maxsize=32)
def _recipient(s: group.Scalar) -> bytes:
    # Every ballot of an election is opened with one scalar: compute u(s·B) once.
    return group.x25519_of(group.base_mul(s))


def open_with_scalar(s: group.Scalar, sealed: bytes, info: bytes) -> bytes:
    """Open ``enc || ct`` sealed to ``u(s·B)`` with ``info``, or raise ``SealRefused``."""
    if not isinstance(sealed, bytes) or len(sealed) < ENC_LENGTH + TAG_LENGTH:
        raise SealRefused("the sealed ballot is too short", code=ErrorCode.SEAL_REFUSED)
    enc, ct = sealed[:ENC_LENGTH], sealed[ENC_LENGTH:]
    try:
        dh = dh_with_scalar(s, enc)
    except GroupError:
        raise SealRefused(
            "the sealed ballot's ephemeral key is not a point of the group",
            code=ErrorCode.SEAL_REFUSED,
        ) from None
    pk_r = _recipient(s)
    key, nonce = key_and_nonce(extract_and_expand(dh, enc + pk_r), info)
    try:
        return AESGCM(key).decrypt(nonce, ct, b"")
    except InvalidTag:
        raise SealRefused(
            "the sealed ballot does not open under this key and election",
            code=ErrorCode.SEAL_REFUSED,
        ) from None
