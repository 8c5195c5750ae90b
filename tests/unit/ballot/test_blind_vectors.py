"""RFC 9474 Appendix A: every intermediate value of all four variants must match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

from ballot.core import blind
from ballot.core.errors import BlindSignatureError, ErrorCode
from tests.strategies.ballot import scripted_rng

VECTORS_FILE = Path(__file__).parents[2] / "data" / "vectors" / "rfc9474.json"
VECTORS: dict[str, dict[str, str]] = json.loads(VECTORS_FILE.read_text())


class Vector:
    def __init__(self, name: str) -> None:
        self.variant = blind.VARIANTS[name]
        self.raw = {key: bytes.fromhex(value) for key, value in VECTORS[name].items()}
        p, q, d = (int.from_bytes(self.raw[k], "big") for k in ("p", "q", "d"))
        public = rsa.RSAPublicNumbers(
            int.from_bytes(self.raw["e"], "big"), int.from_bytes(self.raw["n"], "big")
        )
        self.public_key = public.public_key()
        self.private_key = rsa.RSAPrivateNumbers(
            p,
            q,
            d,
            rsa.rsa_crt_dmp1(d, p),
            rsa.rsa_crt_dmq1(d, q),
            rsa.rsa_crt_iqmp(p, q),
            public,
        ).private_key()

    def __getitem__(self, key: str) -> bytes:
        return self.raw[key]


@pytest.fixture(name="vector", params=sorted(VECTORS), scope="module")
def fx_vector(request: pytest.FixtureRequest) -> Vector:
    return Vector(request.param)


def test_the_file_holds_the_four_variants() -> None:
    assert set(VECTORS) == set(blind.VARIANTS)


def test_key_is_consistent(vector: Vector) -> None:
    n = int.from_bytes(vector["n"], "big")
    assert int.from_bytes(vector["p"], "big") * int.from_bytes(vector["q"], "big") == n


def test_prepare(vector: Vector) -> None:
    chunks = [vector["msg_prefix"]] if vector.variant.randomized else []
    assert (
        blind.prepare(vector["msg"], vector.variant, scripted_rng(*chunks))
        == vector["prepared_msg"]
    )
    if not vector.variant.randomized:
        assert vector["msg_prefix"] == b""


def test_emsa_pss_encode(vector: Vector) -> None:
    assert len(vector["salt"]) == vector.variant.salt_length
    em_bits = int.from_bytes(vector["n"], "big").bit_length() - 1
    encoded = blind.emsa_pss_encode(
        vector["prepared_msg"], em_bits, vector.variant.salt_length, scripted_rng(vector["salt"])
    )
    assert encoded == vector["encoded_msg"]


def test_blind(vector: Vector) -> None:
    blinded = blind.blind(
        vector.public_key,
        vector["prepared_msg"],
        vector.variant,
        scripted_rng(vector["salt"], vector["inv"]),
    )
    assert blinded.blinded_msg == vector["blinded_msg"]
    assert blinded.inv == vector["inv"]


@pytest.mark.parametrize("accelerate", [True, False], ids=["gmpy2", "python"])
def test_blind_sign(vector: Vector, accelerate: bool) -> None:
    key = blind.BlindSigningKey.from_private_key(vector.private_key, accelerate=accelerate)
    assert key.uses_gmpy2 is (accelerate and blind.HAVE_GMPY2)
    assert blind.blind_sign(key, vector["blinded_msg"]) == vector["blind_sig"]


def test_blind_sign_accepts_a_plain_private_key(vector: Vector) -> None:
    assert blind.blind_sign(vector.private_key, vector["blinded_msg"]) == vector["blind_sig"]


def test_finalize(vector: Vector) -> None:
    sig = blind.finalize(
        vector.public_key,
        vector["prepared_msg"],
        vector["blind_sig"],
        vector["inv"],
        vector.variant,
    )
    assert sig == vector["sig"]


def test_verify(vector: Vector) -> None:
    blind.verify(vector.public_key, vector["prepared_msg"], vector["sig"], vector.variant)


def test_signature_is_plain_rsassa_pss(vector: Vector) -> None:
    # What an auditor's RSA library sees: no blind-signature code involved.
    vector.public_key.verify(
        vector["sig"], vector["prepared_msg"], blind.pss_padding(vector.variant), hashes.SHA384()
    )


def test_verify_refuses_another_message(vector: Vector) -> None:
    with pytest.raises(BlindSignatureError) as caught:
        blind.verify(
            vector.public_key, vector["prepared_msg"] + b"!", vector["sig"], vector.variant
        )
    assert caught.value.code == ErrorCode.INVALID_SIGNATURE


def test_finalize_refuses_a_wrong_blind_signature(vector: Vector) -> None:
    forged = bytearray(vector["blind_sig"])
    forged[-1] ^= 1
    with pytest.raises(BlindSignatureError) as caught:
        blind.finalize(
            vector.public_key, vector["prepared_msg"], bytes(forged), vector["inv"], vector.variant
        )
    assert caught.value.code == ErrorCode.INVALID_SIGNATURE
