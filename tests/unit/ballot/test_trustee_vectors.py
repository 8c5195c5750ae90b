"""Golden values of the worked example of docs/protocol.md §14.13: the ceremony id, a
proof of knowledge, Lagrange coefficients, a key share's signed bytes and a lot secret,
from fixed keys and scalars (seeds of repeated bytes)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

from audit.core.canonical import b64url_encode, canonical_bytes
from ballot.core import dkg, group, threshold
from ballot.core.trustees import TrusteeMember

ELECTION = "spring-2027"
HASH = "ab" * 32


def members() -> list[TrusteeMember]:
    out = []
    for j in (1, 2, 3):
        signing = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([j]) * 32)
        box = x25519.X25519PrivateKey.from_private_bytes(bytes([0x10 + j]) * 32)
        out.append(
            TrusteeMember(
                name=f"Trustee {j}",
                signing_key=b64url_encode(signing.public_key().public_bytes_raw()),
                box_key=b64url_encode(box.public_key().public_bytes_raw()),
            )
        )
    return out


def test_the_ceremony_id() -> None:
    body = {"election": ELECTION, "members": dkg.members_json(members()), "threshold": 2}
    assert canonical_bytes(body) == (
        b'{"election":"spring-2027","members":[{"box_key":"e06Qm75__kTEZaIgA31gjuNYl9Me-XLwf3SJ'
        b'LLD3PxM","name":"Trustee 1","signing_key":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w'
        b'"},{"box_key":"BSpQdzrI2Rdz8tyWYuEvDe_pFeQVuKHI4gpaPWqyuEM","name":"Trustee 2","signi'
        b'ng_key":"gTl3Dqh9F19Wo1Rmw0x-zMuNipG07jeiXfYPW4_Js5Q"},{"box_key":"GX_CxWfcA-4qrfDthmg'
        b'drCTap26DylVYdd075zduUwY","name":"Trustee 3","signing_key":"7UkoxijRwsbq6QM4kFmVYSlZJz'
        b'pcY_k2NsFGFKyHN9E"}],"threshold":2}'
    )
    assert dkg.ceremony_id(ELECTION, 2, members()).hex() == (
        "8e6d6b841b47b8b64ebf4ebc21cfbb6fc6385b90b93957f4147575346b7b10b3"
    )


def test_a_proof_of_knowledge() -> None:
    ceremony = dkg.ceremony_id(ELECTION, 2, members())
    a0, r = group.scalar_from_int(7), group.scalar_from_int(11)
    c0, r_point = group.base_mul(a0), group.base_mul(r)
    assert b64url_encode(c0) == "uGJAn7XExBI98qv3RiuI8EGtNt1oZM6HL9VHK-NjxbE"
    assert b64url_encode(r_point) == "EzcDasMtjzDUWJw8HFlYEs4P_0DjfG9al6shPzGCkK0"
    c = dkg.pok_challenge(ceremony, 1, c0, r_point)
    assert c == 5421935330933578237342118935060999138346222909624672060081422279463905168415
    z = group.scalar_from_int(11 + c * 7)
    assert b64url_encode(z) == "Q7FAeq4lVQ1tsG4_Nm1cM0bOttV1BpwT4v0OeE_y6AM"
    proof = {"commitment": b64url_encode(r_point), "response": b64url_encode(z)}
    assert dkg.check_pok(ceremony, 1, c0, proof)
    assert not dkg.check_pok(ceremony, 2, c0, proof)  # bound to the dealer's number
    assert group.x25519_of(c0).hex() == (
        "281884e00fae8a337505bf38152a97c0204a8c1d4cfa2d2b129980ede732af0d"
    )


def test_lagrange_at_zero_for_trustees_1_and_3() -> None:
    half = pow(2, -1, group.L)
    assert threshold.lagrange_at_zero([1, 3], 1) == 3 * half % group.L
    assert threshold.lagrange_at_zero([1, 3], 3) == -half % group.L
    # f(x) = 7 + 5x: f(1) = 12, f(3) = 22 rebuild f(0) = 7.
    shares = {1: group.scalar_from_int(12), 3: group.scalar_from_int(22)}
    assert threshold.reconstruct(shares) == group.scalar_from_int(7)


def test_a_key_share_and_the_lot_secret() -> None:
    share = group.scalar_from_int(5)
    assert threshold.key_share_message(HASH, 1, share) == (
        b'veche/trustee/key-share/v1\n{"election":"' + HASH.encode() + b'","key_share":'
        b'"BQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","trustee":1}'
    )
    body = threshold.sign_key_share(HASH, 1, share, bytes([1]) * 32)
    assert body["signature"] == (
        "feESj79FhvCx8yiH7z1QUvwwvZ6yHunQiifQxlswCS1DYFs9LOn9IYNuEK0ixaRdY8tD-7za0j-Qo3aorygGDw"
    )
    assert threshold.lot_secret(group.scalar_from_int(7), bytes(range(32))).hex() == (
        "3fae03cf7a373962bebfc6e72605616a24979809bb7556a42e25ffa5517cb270"
    )
