"""Fixtures of the ballot core's unit tests: small RSA keys, generated once a session."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ballot.core.blind import BlindSigningKey, generate_private_key

# 1024 bits: not a size any election uses, but the protocol is the same and it is fast.
TEST_KEY_BITS = 1024


@pytest.fixture(name="rsa_private_key", scope="session")
def fx_rsa_private_key() -> rsa.RSAPrivateKey:
    return generate_private_key(TEST_KEY_BITS)


@pytest.fixture(name="rsa_public_key", scope="session")
def fx_rsa_public_key(rsa_private_key: rsa.RSAPrivateKey) -> rsa.RSAPublicKey:
    return rsa_private_key.public_key()


@pytest.fixture(name="signing_key", scope="session")
def fx_signing_key(rsa_private_key: rsa.RSAPrivateKey) -> BlindSigningKey:
    return BlindSigningKey.from_private_key(rsa_private_key)
