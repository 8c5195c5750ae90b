"""Credentials derived from a recovery code (docs/protocol.md §6.13): the known answers of
``tests/data/vectors/recovery.json``, the same request from the same code on every
device, the code's alphabet and refusals, and the blinding equal to RFC 9474's Blind with
the derived values as its randomness."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.core.canonical import b64url_encode
from ballot.core import blind, token
from ballot.core.client import Wallet
from ballot.core.errors import TokenRefused
from tests.strategies.ballot import manifest_hash_hexes, scripted_rng
from tests.support.paths import VECTORS

DATA: dict[str, Any] = json.loads((VECTORS / "recovery.json").read_text("utf-8"))
RFC_KEY = rsa.RSAPublicNumbers(int(DATA["e"], 16), int(DATA["n"], 16)).public_key()
CODES = st.text(alphabet=token.RECOVERY_ALPHABET, min_size=28, max_size=28)


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["code"])
def test_recovery_vectors(vector: dict[str, Any]) -> None:
    code, election = vector["code"], vector["manifest_hash"]
    seed = token.recovery_seed(vector["typed"], election)  # as typed: lower case, spaces
    assert seed.hex() == vector["seed"]
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert b64url_encode(public) == vector["credential"]
    message = token.credential_message(vector["credential"], election)
    assert message.decode() == vector["message"]
    assert token.recovery_bytes(code, election, b"prefix", 32).hex() == vector["prefix"]
    assert token.recovery_bytes(code, election, b"salt", 48).hex() == vector["salt"]
    blinded, state = token.recovery_blind(RFC_KEY, message, code, election)
    assert bytes(blinded).hex() == vector["blinded_msg"]
    assert state.inv.hex() == vector["inv"]
    assert state.prepared_msg == bytes.fromhex(vector["prefix"]) + message
    # The counter: every earlier candidate for r was out of range or not a unit.
    n = RFC_KEY.public_numbers().n
    k = (n.bit_length() + 7) // 8
    for i in range(vector["blind_counter"] + 1):
        label = b"blind" + i.to_bytes(4, "big")
        r = int.from_bytes(token.recovery_bytes(code, election, label, k), "big")
        usable = 1 <= r < n and math.gcd(r, n) == 1
        assert usable == (i == vector["blind_counter"])
    assert r == int(vector["r"], 16)
    assert pow(r, -1, n) == int(vector["inv"], 16)
    # The server's blind signature finalizes into a token for the derived credential.
    made = token.finalize(RFC_KEY, state, bytes.fromhex(vector["blind_sig"]))
    assert dict(made) == vector["token"]
    token.verify_token(RFC_KEY, vector["credential"], election, made)


def test_the_vectors_retry_the_blinding_factor() -> None:
    assert sorted(v["blind_counter"] for v in DATA["vectors"]) == [1, 2]


@given(code=CODES, election=manifest_hash_hexes)
@settings(max_examples=10, deadline=None)
def test_derived_blinding_is_rfc9474_blind_with_derived_randomness(
    rsa_public_key: rsa.RSAPublicKey, code: str, election: str
) -> None:
    message = token.credential_message("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", election)
    blinded, state = token.recovery_blind(rsa_public_key, message, code, election)
    prefix = token.recovery_bytes(code, election, b"prefix", 32)
    salt = token.recovery_bytes(code, election, b"salt", 48)
    expected = blind.blind(
        rsa_public_key, prefix + message, token.TOKEN_VARIANT, scripted_rng(salt, state.inv)
    )
    assert expected.blinded_msg == blinded
    assert expected.inv == state.inv


def test_one_code_one_request_on_every_device(
    rsa_public_key: rsa.RSAPublicKey, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    election = "ab" * 32
    code = token.new_recovery_code()
    first = Wallet.from_recovery_code("e-1", election, code)
    second = Wallet.from_recovery_code("e-1", election, code.lower().replace("-", " "))
    assert first.credential_private == second.credential_private
    assert first.recovery_code == second.recovery_code == code
    message = token.credential_message(first.credential, election)
    a = token.recovery_blind(rsa_public_key, message, code, election)
    b = token.recovery_blind(rsa_public_key, message, second.recovery_code or "", election)
    assert a[0] == b[0] and a[1].inv == b[1].inv
    # Another code or another election: another credential and another request.
    other = Wallet.from_recovery_code("e-1", election, token.new_recovery_code())
    assert other.credential_private != first.credential_private
    elsewhere = Wallet.from_recovery_code("e-2", "cd" * 32, code)
    assert elsewhere.credential_private != first.credential_private
    # The one blind signature unblinds the same on both devices.
    signing = blind.BlindSigningKey.from_private_key(rsa_private_key)
    signature = bytes(blind.blind_sign(signing, a[0]))
    assert token.finalize(rsa_public_key, a[1], signature) == token.finalize(
        rsa_public_key, b[1], signature
    )


def test_a_new_code_is_28_symbols_of_the_alphabet_in_groups_of_four() -> None:
    code = token.new_recovery_code(scripted_rng(bytes(range(224, 252))))
    assert code == "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345"
    drawn = token.new_recovery_code()
    groups = drawn.split("-")
    assert [len(g) for g in groups] == [4] * 7
    assert set("".join(groups)) <= set(token.RECOVERY_ALPHABET)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-234", "28 letters and digits, this one 27"),
        ("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-23456", "this one 29"),
        ("ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2340", "'0'"),
        ("OBCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345", "'O'"),
        ("IBCD-EFGH-JKLM-NPQR-STUV-WXYZ-2341", "'1' 'I'"),
        ("ABCD.EFGH-JKLM-NPQR-STUV-WXYZ-2345", "'.'"),
        ("", "this one 0"),
    ],
)
def test_a_mistyped_code_is_refused_before_anything_is_derived(typed: str, words: str) -> None:
    with pytest.raises(TokenRefused) as refused:
        token.recovery_seed(typed, "ab" * 32)
    assert refused.value.code == "bad_recovery_code"
    assert words in refused.value.detail


def test_a_code_as_typed_is_normalized() -> None:
    typed = " abcd efgh-jklm\tnpqr stuv wxyz 2345 "
    assert token.format_recovery_code(typed) == "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ-2345"
    assert token.recovery_seed(typed, "ab" * 32) == token.recovery_seed(
        "ABCDEFGHJKLMNPQRSTUVWXYZ2345", "ab" * 32
    )
