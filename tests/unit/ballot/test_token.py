"""Credential tokens: exact message bytes, issuance round trip, and refusals."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings

from ballot.core import blind, token
from ballot.core.errors import BlindSignatureError, ErrorCode, TokenRefused
from tests.strategies.ballot import (
    credential_public_b64s,
    manifest_hash_hexes,
    rngs,
    scripted_rng,
)

CREDENTIAL = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"  # RFC 8032 test 1 public key
ELECTION_A = "a" * 64
ELECTION_B = "b" * 64


def issue(
    public_key: rsa.RSAPublicKey,
    signing_key: blind.BlindSigningKey,
    credential: str,
    election: str,
    rng: blind.Rng | None = None,
) -> token.Token:
    message = token.credential_message(credential, election)
    blinded_msg, state = (
        token.prepare_and_blind(public_key, message)
        if rng is None
        else token.prepare_and_blind(public_key, message, rng)
    )
    return token.finalize(public_key, state, blind.blind_sign(signing_key, blinded_msg))


def test_credential_message_is_the_canonical_bytes() -> None:
    assert token.credential_message(CREDENTIAL, ELECTION_A) == (
        b'{"credential":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","election":"'
        + b"a" * 64
        + b'"}'
    )


@pytest.mark.parametrize(
    "credential",
    [
        CREDENTIAL + "=",  # padding
        CREDENTIAL[:-1],  # 31 bytes and change
        CREDENTIAL.replace("_", "/"),  # standard alphabet
        "AAAA",  # 3 bytes
        CREDENTIAL[:-1] + "b",  # stray trailing bits: not the unique encoding
    ],
)
def test_credential_message_refuses_a_malformed_credential(credential: str) -> None:
    with pytest.raises(TokenRefused) as caught:
        token.credential_message(credential, ELECTION_A)
    assert caught.value.code == ErrorCode.CREDENTIAL_MALFORMED


@pytest.mark.parametrize("election", ["A" * 64, "a" * 63, "a" * 66, "g" * 64, ""])
def test_credential_message_refuses_a_malformed_election(election: str) -> None:
    with pytest.raises(TokenRefused) as caught:
        token.credential_message(CREDENTIAL, election)
    assert caught.value.code == ErrorCode.MANIFEST_HASH_MALFORMED


def test_the_token_is_a_plain_rsassa_pss_signature_over_prefix_and_message(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey
) -> None:
    issued = issue(rsa_public_key, signing_key, CREDENTIAL, ELECTION_A)
    assert set(issued) == {"prefix", "signature"}
    prefix = base64.urlsafe_b64decode(issued["prefix"] + "=" * (-len(issued["prefix"]) % 4))
    signature = base64.urlsafe_b64decode(
        issued["signature"] + "=" * (-len(issued["signature"]) % 4)
    )
    assert len(prefix) == 32
    # Nothing from Veche below: what any RSA library does with the token.
    rsa_public_key.verify(
        signature,
        prefix + token.credential_message(CREDENTIAL, ELECTION_A),
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
        hashes.SHA384(),
    )
    token.verify_token(rsa_public_key, CREDENTIAL, ELECTION_A, issued)


def test_the_prefix_comes_from_the_rng(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey
) -> None:
    n = rsa_public_key.public_numbers().n
    k = (n.bit_length() + 7) // 8
    prefix, salt, inv = b"\x07" * 32, b"\x05" * 48, (12345).to_bytes(k, "big")
    issued = issue(
        rsa_public_key, signing_key, CREDENTIAL, ELECTION_A, scripted_rng(prefix, salt, inv)
    )
    assert issued["prefix"] == "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"


def test_a_token_for_election_a_is_refused_for_election_b(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey
) -> None:
    issued = issue(rsa_public_key, signing_key, CREDENTIAL, ELECTION_A)
    with pytest.raises(TokenRefused) as caught:
        token.verify_token(rsa_public_key, CREDENTIAL, ELECTION_B, issued)
    assert caught.value.code == ErrorCode.TOKEN_INVALID


@settings(max_examples=25, deadline=None)
@given(
    credential=credential_public_b64s,
    other=credential_public_b64s,
    election=manifest_hash_hexes,
    rng=rngs,
)
def test_a_token_binds_its_credential(
    rsa_public_key: rsa.RSAPublicKey,
    signing_key: blind.BlindSigningKey,
    credential: str,
    other: str,
    election: str,
    rng: blind.Rng,
) -> None:
    issued = issue(rsa_public_key, signing_key, credential, election, rng)
    token.verify_token(rsa_public_key, credential, election, issued)
    if other != credential:
        with pytest.raises(TokenRefused):
            token.verify_token(rsa_public_key, other, election, issued)


def test_a_token_from_another_key_is_refused(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey
) -> None:
    issued = issue(rsa_public_key, signing_key, CREDENTIAL, ELECTION_A)
    stranger = blind.generate_private_key(1024).public_key()
    with pytest.raises(TokenRefused) as caught:
        token.verify_token(stranger, CREDENTIAL, ELECTION_A, issued)
    assert caught.value.code == ErrorCode.TOKEN_INVALID


def test_a_token_with_another_prefix_is_refused(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey
) -> None:
    issued = issue(rsa_public_key, signing_key, CREDENTIAL, ELECTION_A)
    forged = token.Token(prefix="A" * 43, signature=issued["signature"])
    with pytest.raises(TokenRefused) as caught:
        token.verify_token(rsa_public_key, CREDENTIAL, ELECTION_A, forged)
    assert caught.value.code == ErrorCode.TOKEN_INVALID


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: [t["prefix"], t["signature"]],
        lambda t: {"prefix": t["prefix"]},
        lambda t: {**t, "extra": "x"},
        lambda t: {**t, "prefix": 7},
        lambda t: {**t, "prefix": t["prefix"] + "="},
        lambda t: {**t, "prefix": t["prefix"][:-2]},
        lambda t: {**t, "signature": t["signature"][:-4]},
    ],
    ids=["list", "missing", "extra", "number", "padded", "short-prefix", "short-signature"],
)
def test_a_malformed_token_is_refused(
    rsa_public_key: rsa.RSAPublicKey, signing_key: blind.BlindSigningKey, mangle: object
) -> None:
    issued = issue(rsa_public_key, signing_key, CREDENTIAL, ELECTION_A)
    assert callable(mangle)
    with pytest.raises(TokenRefused) as caught:
        token.verify_token(rsa_public_key, CREDENTIAL, ELECTION_A, mangle(issued))
    assert caught.value.code == ErrorCode.TOKEN_MALFORMED


def test_finalize_refuses_a_bad_blind_signature(rsa_public_key: rsa.RSAPublicKey) -> None:
    message = token.credential_message(CREDENTIAL, ELECTION_A)
    _, state = token.prepare_and_blind(rsa_public_key, message)
    assert state.message == message
    assert "inv" not in repr(state)
    k = (rsa_public_key.key_size + 7) // 8
    with pytest.raises(BlindSignatureError):
        token.finalize(rsa_public_key, state, b"\x01" * k)
