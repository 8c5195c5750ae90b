"""Sealing and opening ballots: round trips and refusals."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import b64url_decode, b64url_encode
from ballot.core import seal
from ballot.core.errors import ErrorCode, SealRefused
from tests.strategies.ballot import manifest_hashes, plaintexts, scripted_rng
from tests.support import hpke_model

PRIVATE, PUBLIC = seal.generate_keypair(scripted_rng(bytes(range(1, 33))))
MANIFEST = bytes.fromhex("9f" * 32)
OTHER_MANIFEST = bytes.fromhex("a0" * 32)
PLAINTEXT = b'{"choices":{"approve":["p1","p7"]},"nonce":"3q2-7w"}'


def test_the_keypair_is_raw_x25519_from_the_rng() -> None:
    assert bytes(range(1, 33)) == PRIVATE
    assert len(PUBLIC) == 32
    assert seal.public_key_of(PRIVATE) == PUBLIC
    private, public = seal.generate_keypair()
    assert (len(private), len(public)) == (32, 32)
    assert private != PRIVATE


def test_the_wire_layout_is_enc_then_ciphertext_and_tag() -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT)
    assert len(sealed) == seal.ENC_LENGTH + len(PLAINTEXT) + seal.TAG_LENGTH
    assert seal.open_sealed(PRIVATE, MANIFEST, sealed) == PLAINTEXT


def test_each_seal_is_fresh() -> None:
    assert seal.seal(PUBLIC, MANIFEST, PLAINTEXT) != seal.seal(PUBLIC, MANIFEST, PLAINTEXT)


@settings(max_examples=50, deadline=None)
@given(manifest_hash=manifest_hashes, plaintext=plaintexts)
def test_seal_open_round_trip(manifest_hash: bytes, plaintext: bytes) -> None:
    sealed = seal.seal(PUBLIC, manifest_hash, plaintext)
    assert seal.open_sealed(PRIVATE, manifest_hash, sealed) == plaintext


def test_every_flipped_byte_is_refused() -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT)
    for position in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(SealRefused) as caught:
            seal.open_sealed(PRIVATE, MANIFEST, bytes(tampered))
        assert caught.value.code == ErrorCode.SEAL_REFUSED


@settings(max_examples=50, deadline=None)
@given(plaintext=plaintexts, data=st.data())
def test_any_change_is_refused(plaintext: bytes, data: st.DataObject) -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, plaintext)
    position = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    mask = data.draw(st.integers(min_value=1, max_value=255))
    tampered = bytearray(sealed)
    tampered[position] ^= mask
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, MANIFEST, bytes(tampered))


@pytest.mark.parametrize("cut", [1, 16, 17, 48], ids=lambda n: f"minus{n}")
def test_truncated_or_extended_input_is_refused(cut: int) -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT)
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, MANIFEST, sealed[:-cut])
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, MANIFEST, sealed + b"\x00")


def test_the_empty_input_is_refused() -> None:
    with pytest.raises(SealRefused) as caught:
        seal.open_sealed(PRIVATE, MANIFEST, b"")
    assert caught.value.code == ErrorCode.SEAL_REFUSED


def test_a_wrong_manifest_hash_is_refused() -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT)
    with pytest.raises(SealRefused) as caught:
        seal.open_sealed(PRIVATE, OTHER_MANIFEST, sealed)
    assert caught.value.code == ErrorCode.SEAL_REFUSED


def test_a_wrong_private_key_is_refused() -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT)
    other_private, _ = seal.generate_keypair()
    with pytest.raises(SealRefused):
        seal.open_sealed(other_private, MANIFEST, sealed)


def test_a_low_order_ephemeral_key_is_refused() -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT)
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, MANIFEST, bytes(32) + sealed[32:])


def test_a_low_order_public_key_cannot_be_sealed_to() -> None:
    with pytest.raises(SealRefused) as caught:
        seal.seal(bytes(32), MANIFEST, PLAINTEXT)
    assert caught.value.code == ErrorCode.SEAL_KEY_MALFORMED


@pytest.mark.parametrize("manifest_hash", [b"", b"\x00" * 31, b"\x00" * 33, "9f" * 32])
def test_the_manifest_hash_must_be_32_raw_bytes(manifest_hash: bytes) -> None:
    with pytest.raises(SealRefused) as caught:
        seal.seal(PUBLIC, manifest_hash, PLAINTEXT)
    assert caught.value.code == ErrorCode.MANIFEST_HASH_MALFORMED
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, manifest_hash, b"\x00" * 64)


@pytest.mark.parametrize("key", [b"", b"\x01" * 31, b"\x01" * 33])
def test_keys_must_be_32_raw_bytes(key: bytes) -> None:
    with pytest.raises(SealRefused) as caught:
        seal.seal(key, MANIFEST, PLAINTEXT)
    assert caught.value.code == ErrorCode.SEAL_KEY_MALFORMED
    with pytest.raises(SealRefused):
        seal.open_sealed(key, MANIFEST, seal.seal(PUBLIC, MANIFEST, PLAINTEXT))
    with pytest.raises(SealRefused):
        seal.generate_keypair(lambda n: key)


# --- version 2: the seal bound to the credential (docs/protocol.md §2.12) ---------------

CREDENTIAL = bytes(range(100, 132))
OTHER_CREDENTIAL = bytes(range(200, 232))


def test_the_version_2_info_binds_the_election_and_the_credential() -> None:
    info = seal.seal_info(MANIFEST, CREDENTIAL)
    assert info == b"veche/seal/v2" + MANIFEST + CREDENTIAL
    assert len(info) == 77
    assert seal.seal_info(MANIFEST) == b"veche/seal/v1" + MANIFEST


def test_a_seal_opens_only_under_its_own_credential() -> None:
    sealed = seal.seal(PUBLIC, MANIFEST, PLAINTEXT, CREDENTIAL)
    assert seal.open_sealed(PRIVATE, MANIFEST, sealed, CREDENTIAL) == PLAINTEXT
    for credential in (OTHER_CREDENTIAL, None):
        with pytest.raises(SealRefused) as caught:
            seal.open_sealed(PRIVATE, MANIFEST, sealed, credential)
        assert caught.value.code == ErrorCode.SEAL_REFUSED
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, OTHER_MANIFEST, sealed, CREDENTIAL)
    # ... and an election-only (version 1) seal does not open as a credential's.
    with pytest.raises(SealRefused):
        seal.open_sealed(PRIVATE, MANIFEST, seal.seal(PUBLIC, MANIFEST, PLAINTEXT), CREDENTIAL)


@pytest.mark.parametrize("credential", [b"", b"\x01" * 31, b"\x01" * 33, "ab" * 32])
def test_the_credential_must_be_32_raw_bytes(credential: bytes) -> None:
    with pytest.raises(SealRefused) as caught:
        seal.seal(PUBLIC, MANIFEST, PLAINTEXT, credential)
    assert caught.value.code == ErrorCode.CREDENTIAL_MALFORMED


def test_the_worked_example_of_a_bound_seal() -> None:
    # docs/protocol.md §7.10: the plaintext of §7.1 sealed for the version-2 election of
    # §5.11 and the RFC 8032 test 1 credential, the ephemeral key fixed to 0x22 bytes.
    election = bytes.fromhex("c030e113c11458770fa0665e390302363e07ea372c86a127b8656c3cad32b113")
    credential = b64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    plaintext = b'{"choices":{"approve":["park","library"]},"nonce":"AAAAAAAAAAAAAAAAAAAAAA"}'
    private = bytes([0x11]) * 32
    info = seal.seal_info(election, credential)
    sealed = hpke_model.seal_base(seal.public_key_of(private), info, plaintext, bytes([0x22]) * 32)
    assert b64url_encode(sealed) == (
        "D6poTtKIZ7l_Smot7l34zpdOdrcBjj8iocTPJnhXDyCTDlBhQ6E7Ulh1svbQtBr9NOSuMSwyWPHbmcjkuZQmmAvN"
        "kjjBJw51MsktKV7KamXn5yE8dEZCwUFdFgt_P08AsRzOzjR7FdxE0HPkXBcYTeVxQGYaaNzkw5gS"
    )
    assert seal.open_sealed(private, election, sealed, credential) == plaintext
