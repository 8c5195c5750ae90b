"""Test elections and key sizes (docs/protocol.md §5.2, §5.6, §10.4 step 2).

A credential key under 2048 bits belongs only to an election whose manifest says
``"test": true``; only deployments that allow test keys make one; the verifier refuses
an unmarked weak key, and reports a test election as one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from audit.core.canonical import b64url_decode
from audit.core.entry import build_entry
from ballot.core import kinds, seal
from ballot.core.config import parse_config
from ballot.core.config_checks import validate_config
from ballot.core.errors import ManifestRejected
from ballot.core.manifest import (
    Manifest,
    build_manifest,
    manifest_dict,
    manifest_hash,
    parse_manifest,
    sign_manifest,
)
from ballot.core.verify import check_elections, summary_lines
from tests.strategies.ballot_manifest import base_config

# A fixed 2048-bit RSA public key (SPKI DER, base64url), the one of §5.11.
CREDENTIAL_SPKI = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt09tfjaeaW3d7h4i5TSzP8kZl9ITWWx5"
    "PYKgTFupXBC7acr6XdxEkCr4IZiDyUGNpmZ6Sh0EKuBHJvD_mjUkswfAxM7ZSKcm9tQBcnuLYXmN"
    "fDfvDmYCn7KywLXJJ4SFKUeRw4pnI8EiWicGlAqnZXz6umvcoyq0aVpCJyCCjsVr4MJQgGR5u8Fc"
    "j0TkxEK4aAohxSJ_dn7xUXigBRUuJOTTm66wM6TvqQSUnGL5-JXxPuVVsy3KEYUo9BIcPZyBYiMd"
    "mDqP26gJWd1tko16wwxpgRfb2nGUSKf83yy3H272DNEsq2Zj4vFPSM_UrCuh7UKbXlZUeUOnTI8e"
    "aFHFXQIDAQAB"
)
AUTHORITY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OPENED_AT = datetime(2027, 2, 28, 12, 0, 0, tzinfo=UTC)


def real_key() -> rsa.RSAPublicKey:
    key = serialization.load_der_public_key(b64url_decode(CREDENTIAL_SPKI))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def manifest(key: rsa.RSAPublicKey, **config: object) -> Manifest:
    return build_manifest(
        parse_config(base_config(**config)),
        key,
        seal.public_key_of(bytes([0x11]) * 32),
        bytes(32),
        AUTHORITY.public_key().public_bytes_raw(),
        OPENED_AT,
        allow_test_keys=True,
    )


def opened_line(m: Manifest) -> bytes:
    """The ``election.opened`` entry of ``m``, signed by the authority."""
    body = {
        "manifest": manifest_dict(m),
        "manifest_hash": manifest_hash(m),
        "signature": sign_manifest(AUTHORITY, m),
    }
    return build_entry(1, "ab" * 32, "2027-02-28T12:00:00Z", kinds.ELECTION_OPENED, body,
                       kinds.ELECTION_ENTRIES)  # fmt: skip


def test_a_test_size_key_makes_a_test_manifest(rsa_public_key: rsa.RSAPublicKey) -> None:
    weak = manifest(rsa_public_key, rsa_key_bits=1024)
    assert weak.test is True
    assert manifest_dict(weak)["test"] is True
    # A real election writes no "test" member at all: its bytes are as before.
    real = manifest(real_key())
    assert "test" not in manifest_dict(real)
    assert b'"test"' not in opened_line(real)


def test_the_verifier_refuses_an_unmarked_weak_key(rsa_public_key: rsa.RSAPublicKey) -> None:
    marked = manifest(rsa_public_key, rsa_key_bits=1024)
    report = check_elections([opened_line(marked)], workers=1)
    assert report.failures == []
    assert report.elections[0].test is True
    assert any("TEST ELECTION" in line for line in summary_lines(report))

    # The operator (holding the authority key) signs a weak key without the mark.
    unmarked = msgspec.structs.replace(marked, test=msgspec.UNSET)
    report = check_elections([opened_line(unmarked)], workers=1)
    assert [(f.seq, f.code) for f in report.failures] == [(1, "weak_election_key")]
    assert "1024 bits" in report.failures[0].detail


def test_a_real_key_marked_test_is_reported_as_a_test_election() -> None:
    marked = manifest(real_key(), test=True)
    report = check_elections([opened_line(marked)], workers=1)
    assert report.failures == []
    assert report.elections[0].test is True


def test_only_deployments_with_test_keys_make_test_elections() -> None:
    flagged = parse_config(base_config(test=True))
    problems = validate_config(flagged)
    assert [(p.field, p.code) for p in problems] == [("test", "test_not_allowed")]
    assert validate_config(flagged, allow_test_keys=True) == []
    weak = parse_config(base_config(rsa_key_bits=1024))
    assert [p.code for p in validate_config(weak)] == ["bad_key_size"]
    # One encoding: "test" is true or absent, never false.
    with pytest.raises(ManifestRejected) as caught:
        parse_config(base_config(test=False))
    assert caught.value.code == "malformed_config"


def test_a_voters_client_refuses_a_test_election_unless_told() -> None:
    marked = manifest(real_key(), test=True)
    with pytest.raises(ManifestRejected) as caught:
        parse_manifest(manifest_dict(marked))
    assert caught.value.code == "test_not_allowed"
    assert parse_manifest(manifest_dict(marked), allow_test_keys=True) == marked
