"""The trustees' group (docs/protocol.md §14.1): known answers and properties."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from ballot.core import group
from ballot.core.errors import GroupError

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)

# RFC 8032 §5.1: the base point's encoding; RFC 7748 §4.1: its u-coordinate is 9.
BASE = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")
scalars = st.integers(min_value=1, max_value=group.L - 1)


def clamp(raw: bytes) -> int:
    b = bytearray(raw)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(b, "little")


def test_known_answers() -> None:
    assert group.base_mul(group.scalar_from_int(1)) == BASE
    assert group.x25519_of(BASE) == (9).to_bytes(32, "little")
    assert group.edwards_of_u((9).to_bytes(32, "little")) == BASE
    assert group.scalar_from_int(group.L) == bytes(32)
    assert group.scalar_from_int(-1) == (group.L - 1).to_bytes(32, "little")


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (group.IDENTITY, "identity"),
        (bytes(32), "order 4 point (x, 0)"),
        (b"\xec" + b"\xff" * 30 + b"\x7f", "y = p - 1: order 2"),
        (b"\xff" * 31 + b"\x7f", "non-canonical y"),
        (b"\x02" + bytes(31), "y = 2: not on the curve"),
        (b"\x01" * 31, "too short"),
    ],
)
def test_points_outside_the_group_are_refused(raw: bytes, why: str) -> None:
    with pytest.raises(GroupError) as caught:
        group.check_point(raw, "test point")
    assert caught.value.code == "bad_point", why


def test_a_point_of_mixed_order_is_refused() -> None:
    # B plus a point of order 2 is on the curve but outside the prime-order subgroup.
    from nacl import bindings as sodium

    order2 = b"\xec" + b"\xff" * 30 + b"\x7f"
    mixed = bytes(sodium.crypto_core_ed25519_add(BASE, order2))
    with pytest.raises(GroupError):
        group.check_point(mixed, "mixed")


def test_scalars_must_be_canonical() -> None:
    with pytest.raises(GroupError):
        group.check_scalar(group.L.to_bytes(32, "little"), "s")
    with pytest.raises(GroupError):
        group.check_scalar(b"\x01" * 31, "s")
    with pytest.raises(GroupError):
        group.base_mul(bytes(32))  # zero
    assert group.check_scalar((group.L - 1).to_bytes(32, "little"), "s")


@PROPERTY_SETTINGS
@given(a=scalars, b=scalars)
def test_arithmetic_agrees_with_the_scalars(a: int, b: int) -> None:
    sa, sb = group.scalar_from_int(a), group.scalar_from_int(b)
    pa = group.base_mul(sa)
    assert group.mul(sb, pa) == group.base_mul(group.scalar_from_int(a * b))
    if (a + b) % group.L:
        assert group.add(pa, group.base_mul(sb)) == group.base_mul(group.scalar_from_int(a + b))
        assert group.linear_combination(
            [(a, group.base_mul(group.scalar_from_int(1))), (b, BASE)]
        ) == (group.base_mul(group.scalar_from_int(a + b)))


def test_a_sum_that_is_the_identity_is_refused() -> None:
    p = group.base_mul(group.scalar_from_int(5))
    q = group.base_mul(group.scalar_from_int(-5))
    with pytest.raises(GroupError):
        group.add(p, q)
    # Inside a combination the identity may be passed through.
    assert group.linear_combination([(1, p), (1, q), (1, BASE)]) == BASE


@PROPERTY_SETTINGS
@given(e=st.binary(min_size=32, max_size=32), s=scalars)
def test_x25519_is_the_u_of_a_scalar_multiple(e: bytes, s: int) -> None:
    # What a sender computes (X25519(e, u(s·B))) is u(s·E) for E the point of its enc.
    recipient = group.x25519_of(group.base_mul(group.scalar_from_int(s)))
    sender = x25519.X25519PrivateKey.from_private_bytes(e)
    enc = sender.public_key().public_bytes_raw()
    assert enc == group.x25519_of(group.base_mul(group.scalar_from_int(clamp(e))))
    dh = sender.exchange(x25519.X25519PublicKey.from_public_bytes(recipient))
    point = group.edwards_of_u(enc)
    assert group.x25519_of(group.mul(group.scalar_from_int(s), point)) == dh


@pytest.mark.parametrize(
    "u",
    [0, 1, group.P25519 - 1, group.P25519, 2**255 - 1, 2**255 + 9],
    ids=["zero", "one", "minus-one", "p", "not-canonical", "high-bit"],
)
def test_a_u_coordinate_outside_the_group_is_refused(u: int) -> None:
    raw = (u % 2**256).to_bytes(32, "little")
    with pytest.raises(GroupError):
        group.edwards_of_u(raw)


def test_random_scalar_reduces_64_bytes_and_skips_zero() -> None:
    draws = iter([bytes(64), group.L.to_bytes(64, "little"), (group.L + 7).to_bytes(64, "little")])
    assert group.random_scalar(lambda n: next(draws)) == group.scalar_from_int(7)
