"""The group of election trustees: the prime-order subgroup of Edwards25519.

docs/protocol.md §14.1. Order ``L = 2^252 + 27742317777372353535851937790883648493``,
base point ``B`` (RFC 8032 §5.1). Point arithmetic is libsodium's (through PyNaCl's
``crypto_core_ed25519_*`` and ``crypto_scalarmult_ed25519_*_noclamp``); scalar
arithmetic is Python's exact integers modulo ``L``.

- A **scalar** is 32 bytes, little-endian, canonical (``< L``).
- A **point** is the 32-byte Ed25519 encoding (RFC 8032 §5.1.2). A point read from
  outside is refused unless it is valid, canonical, in the prime-order subgroup and not
  the identity (``crypto_core_ed25519_is_valid_point``).

``x25519_of`` gives the X25519 u-coordinate of a point (RFC 7748 §4.1, the birational
map ``u = (1 + y) / (1 - y)``), which is what the HPKE sealing of ballots uses as the
recipient key; ``edwards_of_u`` goes back (to one of the two points with that u).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as SodiumRuntimeError

from ballot.core.errors import ErrorCode, GroupError

__all__ = [
    "IDENTITY",
    "P25519",
    "L",
    "Point",
    "Scalar",
    "add",
    "base_mul",
    "check_point",
    "check_scalar",
    "edwards_of_u",
    "linear_combination",
    "mul",
    "random_scalar",
    "scalar_from_int",
    "scalar_to_int",
    "x25519_of",
]

L = 2**252 + 27742317777372353535851937790883648493
P25519 = 2**255 - 19
SCALAR_LENGTH = 32
POINT_LENGTH = 32
# The neutral element's encoding (y = 1, x = 0): allowed inside sums, never read or given.
IDENTITY = b"\x01" + bytes(31)

Scalar = bytes
Point = bytes


def scalar_from_int(value: int) -> Scalar:
    """``value mod L`` as a canonical 32-byte little-endian scalar."""
    return (value % L).to_bytes(SCALAR_LENGTH, "little")


def scalar_to_int(scalar: Scalar) -> int:
    """A canonical scalar's integer; refuses anything else (``check_scalar``)."""
    return int.from_bytes(check_scalar(scalar, "scalar"), "little")


def check_scalar(raw: object, what: str) -> Scalar:
    """``raw`` if it is a canonical scalar (32 bytes little-endian, ``< L``)."""
    if not isinstance(raw, bytes) or len(raw) != SCALAR_LENGTH:
        raise GroupError(f"the {what} must be a {SCALAR_LENGTH}-byte scalar", ErrorCode.BAD_SCALAR)
    if int.from_bytes(raw, "little") >= L:
        raise GroupError(
            f"the {what} is not a canonical scalar (not below L)", ErrorCode.BAD_SCALAR
        )
    return raw


def check_point(raw: object, what: str) -> Point:
    """``raw`` if it is a valid, canonical point of the prime-order subgroup, not the
    identity; ``GroupError`` otherwise."""
    if not isinstance(raw, bytes) or len(raw) != POINT_LENGTH:
        raise GroupError(f"the {what} must be a {POINT_LENGTH}-byte point", ErrorCode.BAD_POINT)
    if not sodium.crypto_core_ed25519_is_valid_point(raw):
        raise GroupError(f"the {what} is not a point of the prime-order group", ErrorCode.BAD_POINT)
    return raw


def random_scalar(rng: Callable[[int], bytes]) -> Scalar:
    """A uniformly random non-zero scalar from ``rng`` (64 bytes reduced mod L, so the
    bias is below 2^-250)."""
    while True:
        wide = rng(64)
        if not isinstance(wide, bytes) or len(wide) != 64:
            raise GroupError(
                "the random source gave the wrong number of bytes", ErrorCode.BAD_SCALAR
            )
        value = int.from_bytes(wide, "little") % L
        if value:
            return scalar_from_int(value)


def base_mul(s: Scalar) -> Point:
    """``s·B`` for a non-zero canonical scalar."""
    check_scalar(s, "scalar")
    try:
        return bytes(sodium.crypto_scalarmult_ed25519_base_noclamp(s))
    except SodiumRuntimeError:  # the zero scalar
        raise GroupError("the scalar is zero", ErrorCode.BAD_SCALAR) from None


def mul(s: Scalar, point: Point) -> Point:
    """``s·P`` for a non-zero canonical scalar and a point of the group."""
    check_scalar(s, "scalar")
    check_point(point, "point")
    try:
        return bytes(sodium.crypto_scalarmult_ed25519_noclamp(s, point))
    except SodiumRuntimeError:  # the zero scalar
        raise GroupError("the scalar is zero", ErrorCode.BAD_SCALAR) from None


def _add_any(p: bytes, q: bytes) -> bytes:
    # Both operands are group points or the identity; the sum may be the identity.
    return bytes(sodium.crypto_core_ed25519_add(p, q))


def add(p: Point, q: Point) -> Point:
    """``P + Q``; refused if the sum is the identity (``GroupError``)."""
    return check_point(_add_any(check_point(p, "point"), check_point(q, "point")), "sum")


def linear_combination(terms: Iterable[tuple[int, Point]]) -> Point:
    """``Σ c_k·P_k`` (coefficients as integers, taken mod L; zero terms skipped).

    Intermediate sums may pass through the identity; the result may not."""
    total = IDENTITY
    for coefficient, point in terms:
        c = coefficient % L
        if c:
            total = _add_any(total, mul(scalar_from_int(c), point))
    return check_point(total, "combination")


def x25519_of(point: Point) -> bytes:
    """The X25519 public key (u-coordinate, RFC 7748) of a group point."""
    check_point(point, "point")
    return bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(point))


def edwards_of_u(u_raw: bytes) -> Point:
    """The group point with x-sign 0 whose u-coordinate is ``u_raw`` (32 bytes LE).

    ``u`` must be canonical (``< p``, so the top bit clear) and ``u ≠ -1``; then
    ``y = (u - 1) / (u + 1) mod p``. Both points with that u give the same u after a
    scalar multiplication, so the sign does not matter to a Diffie-Hellman. Refused
    (``GroupError``) unless the point is in the prime-order group."""
    if not isinstance(u_raw, bytes) or len(u_raw) != POINT_LENGTH:
        raise GroupError("an X25519 key is 32 bytes", ErrorCode.BAD_POINT)
    u = int.from_bytes(u_raw, "little")
    if u >= P25519 or (u + 1) % P25519 == 0:
        raise GroupError("the X25519 key is not a canonical u-coordinate", ErrorCode.BAD_POINT)
    y = (u - 1) * pow(u + 1, -1, P25519) % P25519
    return check_point(y.to_bytes(POINT_LENGTH, "little"), "X25519 key's point")
