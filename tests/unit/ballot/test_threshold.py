"""The close of a trustee election (docs/protocol.md §14.6-§14.9): opening ballots with
the joint scalar (RFC 9180 known answers and an oracle), key shares, the lot secret."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import b64url_encode
from ballot.core import group, hpke_scalar, seal, threshold
from ballot.core.errors import KeyShareRejected, SealRefused
from tests.strategies.ballot import seeded_rng
from tests.support.trustees import Ceremony, run_ceremony

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None)
VECTOR = json.loads(
    (Path(__file__).parents[2] / "data" / "vectors" / "rfc9180_a1.json").read_text()
)
MANIFEST_HASH = bytes(range(32))


def h(key: str) -> bytes:
    return bytes.fromhex(VECTOR[key])


def clamp_scalar(sk: bytes) -> bytes:
    """The group scalar of an X25519 private key: clamp(sk) mod L (RFC 7748 §5)."""
    b = bytearray(sk)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return group.scalar_from_int(int.from_bytes(b, "little"))


@pytest.fixture(name="ceremony", scope="module")
def fx_ceremony() -> Ceremony:
    return run_ceremony(seeded_rng(b"threshold"), "city-2026", threshold=2, n=3)


def test_the_hand_written_key_schedule_gives_rfc9180_a1() -> None:
    skr = x25519.X25519PrivateKey.from_private_bytes(h("skRm"))
    dh = skr.exchange(x25519.X25519PublicKey.from_public_bytes(h("enc")))
    shared = hpke_scalar.extract_and_expand(dh, h("enc") + h("pkRm"))
    assert shared == h("shared_secret")
    assert hpke_scalar.key_and_nonce(shared, h("info")) == (h("key"), h("base_nonce"))


def test_the_scalar_path_gives_the_rfc9180_a1_dh_and_opens() -> None:
    s = clamp_scalar(h("skRm"))
    assert group.x25519_of(group.base_mul(s)) == h("pkRm")
    skr = x25519.X25519PrivateKey.from_private_bytes(h("skRm"))
    dh = skr.exchange(x25519.X25519PublicKey.from_public_bytes(h("enc")))
    assert hpke_scalar.dh_with_scalar(s, h("enc")) == dh
    pt = bytes.fromhex(VECTOR["encryptions"][0]["pt"])
    ct = AESGCM(h("key")).encrypt(h("base_nonce"), pt, b"")
    assert threshold.open_sealed_with_scalar(s, h("enc") + ct, h("info")) == pt


@PROPERTY_SETTINGS
@given(
    s=st.integers(min_value=1, max_value=group.L - 1),
    plaintext=st.binary(max_size=200),
    credential=st.binary(min_size=32, max_size=32),
)
def test_oracle_what_cryptography_seals_to_the_joint_key_opens_with_the_scalar(
    s: int, plaintext: bytes, credential: bytes
) -> None:
    scalar = group.scalar_from_int(s)
    recipient = group.x25519_of(group.base_mul(scalar))
    sealed = seal.seal(recipient, MANIFEST_HASH, plaintext, credential)
    info = seal.seal_info(MANIFEST_HASH, credential)
    assert threshold.open_sealed_with_scalar(scalar, sealed, info) == plaintext
    with pytest.raises(SealRefused):
        threshold.open_sealed_with_scalar(group.scalar_from_int(s + 1), sealed, info)
    with pytest.raises(SealRefused):
        threshold.open_sealed_with_scalar(scalar, sealed, seal.seal_info(MANIFEST_HASH))
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealRefused):
        threshold.open_sealed_with_scalar(scalar, tampered, info)


@pytest.mark.parametrize(
    "enc",
    [bytes(32), (2**255 - 19).to_bytes(32, "little"), b"\xff" * 32, (2).to_bytes(32, "little")],
    ids=["zero", "p", "high-bit", "twist"],
)
def test_a_ballot_whose_enc_is_not_a_group_point_does_not_open(enc: bytes) -> None:
    with pytest.raises(SealRefused, match="ephemeral key"):
        threshold.open_sealed_with_scalar(group.scalar_from_int(7), enc + bytes(40), b"info")


def test_a_seal_too_short_does_not_open() -> None:
    with pytest.raises(SealRefused, match="too short"):
        threshold.open_sealed_with_scalar(group.scalar_from_int(7), bytes(47), b"info")


def test_the_joint_key_opens_a_ballot_after_k_shares(ceremony: Ceremony) -> None:
    sealed = seal.seal(ceremony.sealing_key, MANIFEST_HASH, b'{"approve":["a"]}')
    info = seal.seal_info(MANIFEST_HASH)
    s = threshold.reconstruct({2: ceremony.key_shares[2], 3: ceremony.key_shares[3]})
    assert threshold.open_sealed_with_scalar(s, sealed, info) == b'{"approve":["a"]}'
    one = threshold.reconstruct({2: ceremony.key_shares[2]})  # fewer than k
    with pytest.raises(SealRefused):
        threshold.open_sealed_with_scalar(one, sealed, info)


def test_a_key_share_checks_against_the_manifest(ceremony: Ceremony) -> None:
    election = "ab" * 32
    ident = ceremony.identities[1]
    body = threshold.sign_key_share(election, 2, ceremony.key_shares[2], ident.signing_private)
    assert set(body) == {"election", "key_share", "signature", "trustee"}
    assert (
        threshold.check_key_share(body, ceremony.block, election=election)
        == (ceremony.key_shares[2])
    )
    with pytest.raises(KeyShareRejected, match="another election") as caught:
        threshold.check_key_share(body, ceremony.block, election="cd" * 32)
    assert caught.value.trustee == 2


def test_a_forged_key_share_is_refused_naming_the_trustee(ceremony: Ceremony) -> None:
    election = "ab" * 32
    # Trustee 3 signs a share that is not its own: the signature is fine, the share is not.
    ident = ceremony.identities[2]
    wrong = group.scalar_from_int(group.scalar_to_int(ceremony.key_shares[3]) + 1)
    body = threshold.sign_key_share(election, 3, wrong, ident.signing_private)
    with pytest.raises(KeyShareRejected, match="committed") as caught:
        threshold.check_key_share(body, ceremony.block)
    assert caught.value.trustee == 3 and caught.value.code == "bad_key_share"
    assert caught.value.status == 422
    # The operator logs trustee 1's true share under trustee 1's name without its key.
    real = threshold.sign_key_share(election, 1, ceremony.key_shares[1], ident.signing_private)
    with pytest.raises(KeyShareRejected, match="signature") as caught:
        threshold.check_key_share(real, ceremony.block)
    assert caught.value.trustee == 1
    moved = copy.deepcopy(real)
    moved["trustee"] = 7
    with pytest.raises(KeyShareRejected, match="no trustee"):
        threshold.check_key_share(moved, ceremony.block)


def test_the_lot_secret_is_the_hash_of_the_scalar_and_the_root() -> None:
    s = group.scalar_from_int(12345)
    root = bytes(range(32, 64))
    expected = hashlib.sha256(b"veche/lot/trustees/v1" + s + root).digest()
    assert threshold.lot_secret(s, root) == expected
    assert threshold.lot_secret(s, bytes(32)) != expected
    assert b64url_encode(expected) == b64url_encode(threshold.lot_secret(s, root))


def test_lagrange_coefficients_sum_to_one() -> None:
    # Σ λ_j = 1 for any index set (the constant polynomial 1).
    for indices in ([1], [1, 2], [2, 5, 9], list(range(1, 17))):
        total = sum(threshold.lagrange_at_zero(indices, j) for j in indices) % group.L
        assert total == 1


@PROPERTY_SETTINGS
@given(
    s=st.integers(min_value=1, max_value=group.L - 1),
    e=st.binary(min_size=32, max_size=32),
)
def test_the_fast_x25519_path_gives_the_edwards_definition(s: int, e: bytes) -> None:
    scalar = group.scalar_from_int(s)
    enc = x25519.X25519PrivateKey.from_private_bytes(e).public_key().public_bytes_raw()
    assert hpke_scalar.dh_with_scalar(scalar, enc) == hpke_scalar.dh_by_edwards(scalar, enc)


@pytest.mark.parametrize("s", [1, 2, 7, group.L - 1, group.L - 8, 2**251, 2**252 - 1])
def test_the_fast_path_at_the_edges(s: int) -> None:
    scalar = group.scalar_from_int(s)
    enc = group.x25519_of(group.base_mul(group.scalar_from_int(12345)))
    assert hpke_scalar.dh_with_scalar(scalar, enc) == hpke_scalar.dh_by_edwards(scalar, enc)
