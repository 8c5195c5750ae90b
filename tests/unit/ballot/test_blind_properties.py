"""Blind-signature properties over generated messages, variants and randomness."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.core import blind
from ballot.core.errors import BlindSignatureError, ErrorCode, SigningFailure
from tests.strategies.ballot import messages, rngs, variants

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)


@PROPERTY_SETTINGS
@given(msg=messages, variant=variants, client_rng=rngs, server_rng=rngs)
def test_blind_sign_finalize_round_trip(
    rsa_public_key: rsa.RSAPublicKey,
    signing_key: blind.BlindSigningKey,
    msg: bytes,
    variant: blind.Variant,
    client_rng: blind.Rng,
    server_rng: blind.Rng,
) -> None:
    prepared = blind.prepare(msg, variant, client_rng)
    blinded = blind.blind(rsa_public_key, prepared, variant, client_rng)
    blind_sig = blind.blind_sign(signing_key, blinded.blinded_msg, server_rng)
    sig = blind.finalize(rsa_public_key, prepared, blind_sig, blinded.inv, variant)
    blind.verify(rsa_public_key, prepared, sig, variant)
    rsa_public_key.verify(sig, prepared, blind.pss_padding(variant), hashes.SHA384())


@PROPERTY_SETTINGS
@given(msg=messages, variant=variants, client_rng=rngs, flip=st.integers(min_value=0))
def test_a_signature_over_a_tampered_message_is_refused(
    rsa_public_key: rsa.RSAPublicKey,
    signing_key: blind.BlindSigningKey,
    msg: bytes,
    variant: blind.Variant,
    client_rng: blind.Rng,
    flip: int,
) -> None:
    prepared = blind.prepare(msg, variant, client_rng)
    blinded = blind.blind(rsa_public_key, prepared, variant, client_rng)
    blind_sig = blind.blind_sign(signing_key, blinded.blinded_msg)
    sig = blind.finalize(rsa_public_key, prepared, blind_sig, blinded.inv, variant)
    tampered = bytearray(prepared or b"\x00")
    tampered[flip % len(tampered)] ^= 1 << (flip % 8)
    if not prepared:
        tampered += b"\x00"
    with pytest.raises(BlindSignatureError) as caught:
        blind.verify(rsa_public_key, bytes(tampered), sig, variant)
    assert caught.value.code == ErrorCode.INVALID_SIGNATURE


@PROPERTY_SETTINGS
@given(msg=messages, variant=variants, client_rng=rngs, server_rng=rngs)
def test_gmpy2_and_python_integers_sign_identically(
    rsa_private_key: rsa.RSAPrivateKey,
    msg: bytes,
    variant: blind.Variant,
    client_rng: blind.Rng,
    server_rng: blind.Rng,
) -> None:
    public_key = rsa_private_key.public_key()
    blinded = blind.blind(public_key, blind.prepare(msg, variant, client_rng), variant, client_rng)
    fast = blind.BlindSigningKey.from_private_key(rsa_private_key, accelerate=True)
    plain = blind.BlindSigningKey.from_private_key(rsa_private_key, accelerate=False)
    assert not plain.uses_gmpy2
    assert blind.blind_sign(fast, blinded.blinded_msg, server_rng) == blind.blind_sign(
        plain, blinded.blinded_msg
    )


@PROPERTY_SETTINGS
@given(msg=messages, client_rng=rngs)
def test_blinding_one_message_twice_gives_unrelated_blinded_messages(
    rsa_public_key: rsa.RSAPublicKey, msg: bytes, client_rng: blind.Rng
) -> None:
    # The same message blinded twice gives unrelated blinded messages.
    first = blind.blind(rsa_public_key, msg, blind.PSS_DETERMINISTIC, client_rng)
    second = blind.blind(rsa_public_key, msg, blind.PSS_DETERMINISTIC, client_rng)
    assert first.blinded_msg != second.blinded_msg


@pytest.mark.parametrize("accelerate", [True, False], ids=["gmpy2", "python"])
def test_a_faulty_crt_half_is_caught_before_answering(
    rsa_private_key: rsa.RSAPrivateKey, accelerate: bool
) -> None:
    sound = blind.BlindSigningKey.from_private_key(rsa_private_key, accelerate=accelerate)
    faulty = dataclasses.replace(sound, dp=sound.dp ^ 2)
    public_key = rsa_private_key.public_key()
    blinded = blind.blind(public_key, b"ballot", blind.PSS_RANDOMIZED)
    with pytest.raises(SigningFailure) as caught:
        blind.blind_sign(faulty, blinded.blinded_msg)
    assert caught.value.code == ErrorCode.SIGNING_FAILURE


def test_blind_sign_refuses_a_representative_out_of_range(
    signing_key: blind.BlindSigningKey,
) -> None:
    too_big = signing_key.n.to_bytes(signing_key.modulus_length, "big")
    with pytest.raises(BlindSignatureError) as caught:
        blind.blind_sign(signing_key, too_big)
    assert caught.value.code == ErrorCode.MESSAGE_REPRESENTATIVE_OUT_OF_RANGE
    assert caught.value.detail == "message representative out of range"


@pytest.mark.parametrize("delta", [-1, 1])
def test_blind_sign_refuses_a_wrong_length(signing_key: blind.BlindSigningKey, delta: int) -> None:
    with pytest.raises(BlindSignatureError) as caught:
        blind.blind_sign(signing_key, b"\x01" * (signing_key.modulus_length + delta))
    assert caught.value.code == ErrorCode.UNEXPECTED_INPUT_SIZE


def test_finalize_refuses_a_wrong_length(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey
) -> None:
    blinded = blind.blind(rsa_public_key, b"m")
    blind_sig = blind.blind_sign(signing_key, blinded.blinded_msg)
    with pytest.raises(BlindSignatureError) as caught:
        blind.finalize(rsa_public_key, b"m", blind_sig[1:], blinded.inv)
    assert caught.value.code == ErrorCode.UNEXPECTED_INPUT_SIZE


def test_encoding_refuses_a_modulus_too_short() -> None:
    with pytest.raises(BlindSignatureError) as caught:
        blind.emsa_pss_encode(b"m", 8 * 97, blind.HASH_LENGTH)
    assert caught.value.code == ErrorCode.ENCODING_ERROR


def test_election_keys_are_2048_or_3072_bits_with_e_65537(
    rsa_public_key: rsa.RSAPublicKey,
) -> None:
    with pytest.raises(BlindSignatureError) as caught:
        blind.check_election_key(rsa_public_key)
    assert caught.value.code == ErrorCode.UNSUPPORTED_KEY
    blind.check_election_key(rsa_public_key, allowed_bits=(1024,))
    n = rsa_public_key.public_numbers().n
    with pytest.raises(BlindSignatureError):
        blind.check_election_key(rsa.RSAPublicNumbers(3, n).public_key(), allowed_bits=(1024,))


def test_key_generation_refuses_tiny_keys() -> None:
    with pytest.raises(BlindSignatureError) as caught:
        blind.generate_private_key(512)
    assert caught.value.code == ErrorCode.UNSUPPORTED_KEY


def test_the_signing_key_does_not_print_its_secrets(signing_key: blind.BlindSigningKey) -> None:
    shown = repr(signing_key)
    assert str(signing_key.p) not in shown
    assert shown.startswith("BlindSigningKey(bits=1024")
    assert signing_key.public_key().public_numbers().n == signing_key.n


def test_the_rng_must_give_what_is_asked() -> None:
    with pytest.raises(ValueError, match="rng returned"):
        blind.prepare(b"m", blind.PSS_RANDOMIZED, lambda n: b"\x00" * (n - 1))
