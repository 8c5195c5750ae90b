"""An independent, test-only model of RFC 9180 base mode for one suite.

DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, written from RFC 9180 §4-§5 with
the standard library's HMAC, so that the product's HPKE (``cryptography``'s) can be
checked against the RFC's intermediate values and against a second implementation that
lets the ephemeral key be chosen. It is what a browser client has to compute by hand.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0001
KEM_SUITE_ID = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE_ID = (
    b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + AEAD_ID.to_bytes(2, "big")
)
NH, NK, NN, NSECRET = 32, 16, 12, 32
MODE_BASE = 0


def extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return extract(salt, b"HPKE-v1" + suite_id + label + ikm)


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info, length)


def public_of(sk: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(sk).public_key().public_bytes_raw()


def dh(sk: bytes, pk: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(sk).exchange(
        x25519.X25519PublicKey.from_public_bytes(pk)
    )


def derive_key_pair(ikm: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 §7.1.3 for X25519."""
    dkp_prk = labeled_extract(KEM_SUITE_ID, b"", b"dkp_prk", ikm)
    sk = labeled_expand(KEM_SUITE_ID, dkp_prk, b"sk", b"", 32)
    return sk, public_of(sk)


def extract_and_expand(dh_value: bytes, kem_context: bytes) -> bytes:
    eae_prk = labeled_extract(KEM_SUITE_ID, b"", b"eae_prk", dh_value)
    return labeled_expand(KEM_SUITE_ID, eae_prk, b"shared_secret", kem_context, NSECRET)


def encap(pk_r: bytes, sk_e: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 §4.1 Encap with the ephemeral key given: (shared_secret, enc)."""
    enc = public_of(sk_e)
    return extract_and_expand(dh(sk_e, pk_r), enc + pk_r), enc


def decap(enc: bytes, sk_r: bytes) -> bytes:
    return extract_and_expand(dh(sk_r, enc), enc + public_of(sk_r))


@dataclass(frozen=True)
class Context:
    key_schedule_context: bytes
    secret: bytes
    key: bytes
    base_nonce: bytes
    exporter_secret: bytes

    def nonce(self, seq: int) -> bytes:
        return (int.from_bytes(self.base_nonce, "big") ^ seq).to_bytes(NN, "big")

    def seal(self, seq: int, aad: bytes, pt: bytes) -> bytes:
        return AESGCM(self.key).encrypt(self.nonce(seq), pt, aad)

    def open(self, seq: int, aad: bytes, ct: bytes) -> bytes:
        return AESGCM(self.key).decrypt(self.nonce(seq), ct, aad)

    def export(self, exporter_context: bytes, length: int) -> bytes:
        return labeled_expand(HPKE_SUITE_ID, self.exporter_secret, b"sec", exporter_context, length)


def key_schedule(shared_secret: bytes, info: bytes) -> Context:
    """RFC 9180 §5.1 KeySchedule, base mode (empty psk and psk_id)."""
    psk_id_hash = labeled_extract(HPKE_SUITE_ID, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE_ID, b"", b"info_hash", info)
    context = bytes([MODE_BASE]) + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE_ID, shared_secret, b"secret", b"")
    return Context(
        key_schedule_context=context,
        secret=secret,
        key=labeled_expand(HPKE_SUITE_ID, secret, b"key", context, NK),
        base_nonce=labeled_expand(HPKE_SUITE_ID, secret, b"base_nonce", context, NN),
        exporter_secret=labeled_expand(HPKE_SUITE_ID, secret, b"exp", context, NH),
    )


def seal_base(pk_r: bytes, info: bytes, pt: bytes, sk_e: bytes) -> bytes:
    """RFC 9180 §6.1 single-shot seal, laid out as enc || ct."""
    shared_secret, enc = encap(pk_r, sk_e)
    return enc + key_schedule(shared_secret, info).seal(0, b"", pt)


def open_base(sk_r: bytes, info: bytes, sealed: bytes) -> bytes:
    enc, ct = sealed[:32], sealed[32:]
    return key_schedule(decap(enc, sk_r), info).open(0, b"", ct)
