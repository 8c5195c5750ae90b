"""RFC 9180 Appendix A.1.1 (base mode, X25519 / HKDF-SHA256 / AES-128-GCM).

The test-only model reproduces every value of the appendix; ``cryptography``'s HPKE,
which ``ballot.seal`` uses, then agrees with both the appendix and the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ballot.core import seal
from tests.support import hpke_model as model

VECTOR_FILE = Path(__file__).parents[2] / "data" / "vectors" / "rfc9180_a1.json"
RAW: dict[str, object] = json.loads(VECTOR_FILE.read_text())


def h(key: str) -> bytes:
    value = RAW[key]
    assert isinstance(value, str)
    return bytes.fromhex(value)


def cases(key: str) -> list[dict[str, object]]:
    value = RAW[key]
    assert isinstance(value, list)
    return value


ENCRYPTIONS = cases("encryptions")
EXPORTS = cases("exports")


def test_the_vector_is_the_suite_veche_uses() -> None:
    # X25519 keys: Veche derives the appendix's public keys from its private keys.
    assert seal.public_key_of(h("skRm")) == h("pkRm")
    assert seal.public_key_of(h("skEm")) == h("pkEm")
    # A seal is the enc (32 bytes), then the ciphertext with its 16-byte tag; the other
    # tests here pin the key schedule and the AEAD to the appendix.
    sealed = seal.seal(h("pkRm"), bytes(32), b"ballot")
    assert len(sealed) == len(h("enc")) + len(b"ballot") + 16
    assert seal.open_sealed(h("skRm"), bytes(32), sealed) == b"ballot"


def test_derive_key_pair() -> None:
    assert model.derive_key_pair(h("ikmE")) == (h("skEm"), h("pkEm"))
    assert model.derive_key_pair(h("ikmR")) == (h("skRm"), h("pkRm"))


def test_encap_and_decap() -> None:
    shared_secret, enc = model.encap(h("pkRm"), h("skEm"))
    assert enc == h("enc")
    assert shared_secret == h("shared_secret")
    assert model.decap(h("enc"), h("skRm")) == h("shared_secret")


def test_key_schedule() -> None:
    context = model.key_schedule(h("shared_secret"), h("info"))
    assert context.key_schedule_context == h("key_schedule_context")
    assert context.secret == h("secret")
    assert context.key == h("key")
    assert context.base_nonce == h("base_nonce")
    assert context.exporter_secret == h("exporter_secret")


@pytest.mark.parametrize("case", ENCRYPTIONS, ids=lambda c: f"seq{c['sequence_number']}")
def test_encryptions(case: dict[str, object]) -> None:
    context = model.key_schedule(h("shared_secret"), h("info"))
    seq = case["sequence_number"]
    assert isinstance(seq, int)
    fields = {k: bytes.fromhex(v) for k, v in case.items() if isinstance(v, str)}
    assert context.nonce(seq) == fields["nonce"]
    assert context.seal(seq, fields["aad"], fields["pt"]) == fields["ct"]
    assert context.open(seq, fields["aad"], fields["ct"]) == fields["pt"]


@pytest.mark.parametrize("case", EXPORTS, ids=lambda c: f"ctx{c['exporter_context'] or '-'}")
def test_exports(case: dict[str, object]) -> None:
    context = model.key_schedule(h("shared_secret"), h("info"))
    exporter_context, length, value = (
        case["exporter_context"],
        case["L"],
        case["exported_value"],
    )
    assert isinstance(exporter_context, str) and isinstance(value, str)
    assert isinstance(length, int)
    assert context.export(bytes.fromhex(exporter_context), length) == bytes.fromhex(value)


def test_cryptography_hpke_opens_with_the_appendix_key_schedule() -> None:
    # The single-shot API seals at sequence 0 with empty aad: make that ciphertext from
    # the appendix's own key and nonce, and let the library derive them from enc and skR.
    pt_hex = ENCRYPTIONS[0]["pt"]
    assert isinstance(pt_hex, str)
    pt = bytes.fromhex(pt_hex)
    ct = AESGCM(h("key")).encrypt(h("base_nonce"), pt, b"")
    private_key = x25519.X25519PrivateKey.from_private_bytes(h("skRm"))
    assert seal.SUITE.decrypt(h("enc") + ct, private_key, info=h("info")) == pt


def test_open_sealed_opens_what_the_model_seals() -> None:
    manifest_hash = bytes(range(32))
    sealed = model.seal_base(
        h("pkRm"), seal.seal_info(manifest_hash), b'{"choices":1}', sk_e=h("skEm")
    )
    assert sealed[:32] == h("enc")
    assert seal.open_sealed(h("skRm"), manifest_hash, sealed) == b'{"choices":1}'


def test_the_model_opens_what_seal_seals() -> None:
    manifest_hash = bytes(range(32))
    sealed = seal.seal(h("pkRm"), manifest_hash, b"ballot")
    assert model.open_base(h("skRm"), b"veche/seal/v1" + manifest_hash, sealed) == b"ballot"
