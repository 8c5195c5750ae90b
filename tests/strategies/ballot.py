"""Reusable hypothesis strategies for the ballot package's cryptographic core."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import strategies as st

from ballot.core.blind import VARIANTS, Rng, Variant


def seeded_rng(seed: bytes) -> Rng:
    """A deterministic byte stream (SHAKE-256 of the seed), handed out in order."""
    position = 0

    def rng(length: int) -> bytes:
        nonlocal position
        stream = hashlib.shake_256(seed).digest(position + length)
        position += length
        return stream[position - length : position]

    return rng


def scripted_rng(*chunks: bytes) -> Callable[[int], bytes]:
    """Returns the given chunks in order and insists each is asked for at its length."""
    queue = list(chunks)

    def rng(length: int) -> bytes:
        assert queue, f"unexpected draw of {length} bytes"
        chunk = queue.pop(0)
        assert len(chunk) == length, f"draw of {length} bytes, script has {len(chunk)}"
        return chunk

    return rng


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


variants: st.SearchStrategy[Variant] = st.sampled_from(list(VARIANTS.values()))
messages: st.SearchStrategy[bytes] = st.binary(max_size=256)
rngs: st.SearchStrategy[Rng] = st.binary(min_size=16, max_size=16).map(seeded_rng)
manifest_hashes: st.SearchStrategy[bytes] = st.binary(min_size=32, max_size=32)
manifest_hash_hexes: st.SearchStrategy[str] = manifest_hashes.map(bytes.hex)
credential_keys: st.SearchStrategy[ed25519.Ed25519PrivateKey] = st.binary(
    min_size=32, max_size=32
).map(ed25519.Ed25519PrivateKey.from_private_bytes)
credential_public_b64s: st.SearchStrategy[str] = credential_keys.map(
    lambda key: b64url(key.public_key().public_bytes_raw())
)
plaintexts: st.SearchStrategy[bytes] = st.binary(max_size=512)
