"""RSA blind signatures as RFC 9474 specifies them (RSABSSA-SHA384 variants).

Implements the protocol of RFC 9474 §4: Prepare (§4.1), Blind (§4.3), BlindSign (§4.4),
Finalize (§4.5) and Verify (§4.6), for the four variants of §5: PSS and PSSZERO, each
Randomized or Deterministic. The message encoding is EMSA-PSS (RFC 8017 §9.1.1) with
SHA-384 and MGF1-SHA-384 (RFC 8017 §B.2.1); a signature is an ordinary RSASSA-PSS
signature (RFC 8017 §8.1), so verification uses ``cryptography``'s RSA-PSS verify, which
is all an auditor needs.

Randomness is a parameter (``rng(n) -> n random bytes``, ``os.urandom`` by default), so
the RFC's test vectors, which list the random prefix, salt and blinding inverse, replay
exactly.

The server side (``blind_sign``) hardens the private operation:

* it blinds its own input with a fresh random ``u`` (signs ``m * u^e``, then divides
  by ``u``), so the time of the exponentiation does not depend on the client's input;
* it uses the Chinese remainder theorem, with GMP's side-channel resistant ``powmod_sec``
  when ``gmpy2`` is importable (about eight times faster than Python's ``pow``) and
  Python integers otherwise -- both give identical results;
* it checks its own output (``s^e mod n == m``, RFC 9474 §4.4 step 4) before answering,
  because a faulty CRT half would otherwise leak a factor of ``n``.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NewType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ballot.core.errors import BlindSignatureError, ErrorCode, SigningFailure

try:
    _gmpy2: Any = importlib.import_module("gmpy2")
except ImportError:  # pragma: no cover - exercised only where gmpy2 is absent
    _gmpy2 = None

HAVE_GMPY2: bool = _gmpy2 is not None

Rng = Callable[[int], bytes]
"""A source of randomness: ``rng(n)`` returns ``n`` bytes."""

BlindedMessage = NewType("BlindedMessage", bytes)
BlindSignature = NewType("BlindSignature", bytes)

HASH_LENGTH = 48  # SHA-384
PREFIX_LENGTH = 32  # RFC 9474 §4.1: the randomized variants' message prefix
PUBLIC_EXPONENT = 65537
DEFAULT_KEY_BITS = 2048
MIN_KEY_BITS = 1024  # below the sizes a manifest may use; small keys keep tests fast
ELECTION_KEY_BITS = (2048, 3072)  # what an election's manifest may name


@dataclass(frozen=True, slots=True)
class Variant:
    """One of RFC 9474 §5's named variants."""

    name: str
    salt_length: int
    randomized: bool


PSS_RANDOMIZED = Variant("RSABSSA-SHA384-PSS-Randomized", HASH_LENGTH, True)
PSSZERO_RANDOMIZED = Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True)
PSS_DETERMINISTIC = Variant("RSABSSA-SHA384-PSS-Deterministic", HASH_LENGTH, False)
PSSZERO_DETERMINISTIC = Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False)
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (PSS_RANDOMIZED, PSSZERO_RANDOMIZED, PSS_DETERMINISTIC, PSSZERO_DETERMINISTIC)
}
DEFAULT_VARIANT = PSS_RANDOMIZED  # the one docs/protocol.md §2.13 prescribes


class Blinded(NamedTuple):
    """RFC 9474 §4.3's output: what the client sends, and what it keeps to unblind."""

    blinded_msg: BlindedMessage
    inv: bytes


def generate_private_key(bits: int = DEFAULT_KEY_BITS) -> rsa.RSAPrivateKey:
    """A fresh RSA key with e = 65537; 2048 or 3072 bits in production."""
    if bits < MIN_KEY_BITS:
        raise BlindSignatureError(
            f"RSA keys must have at least {MIN_KEY_BITS} bits", code=ErrorCode.UNSUPPORTED_KEY
        )
    return rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=bits)


def check_election_key(
    public_key: rsa.RSAPublicKey, *, allowed_bits: tuple[int, ...] = ELECTION_KEY_BITS
) -> None:
    """Refuse a credential key a client should not blind for (size, exponent).

    A client checks the key named in a manifest before use; tests pass their small
    key sizes through ``allowed_bits``.
    """
    numbers = public_key.public_numbers()
    if numbers.n.bit_length() not in allowed_bits:
        raise BlindSignatureError(
            f"the RSA key has {numbers.n.bit_length()} bits; allowed: {allowed_bits}",
            code=ErrorCode.UNSUPPORTED_KEY,
        )
    if numbers.e != PUBLIC_EXPONENT:
        raise BlindSignatureError(
            f"the RSA public exponent must be {PUBLIC_EXPONENT}", code=ErrorCode.UNSUPPORTED_KEY
        )


def pss_padding(variant: Variant = DEFAULT_VARIANT) -> padding.PSS:
    """The RSASSA-PSS parameters of ``variant`` for ``cryptography``'s sign/verify."""
    return padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_length)


# -- RFC 8017 building blocks ------------------------------------------------------------


def _mgf1_sha384(seed: bytes, length: int) -> bytes:
    """MGF1 with SHA-384 (RFC 8017 §B.2.1)."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def emsa_pss_encode(msg: bytes, em_bits: int, salt_length: int, rng: Rng = os.urandom) -> bytes:
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with SHA-384 / MGF1-SHA-384."""
    em_len = (em_bits + 7) // 8
    m_hash = hashlib.sha384(msg).digest()
    if em_len < HASH_LENGTH + salt_length + 2:
        raise BlindSignatureError("the RSA modulus is too short", code=ErrorCode.ENCODING_ERROR)
    salt = _draw(rng, salt_length)
    h = hashlib.sha384(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - salt_length - HASH_LENGTH - 2) + b"\x01" + salt
    masked_db = bytearray(a ^ b for a, b in zip(db, _mgf1_sha384(h, len(db)), strict=True))
    masked_db[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked_db) + h + b"\xbc"


def _draw(rng: Rng, length: int) -> bytes:
    data = rng(length)
    if len(data) != length:
        raise ValueError(f"rng returned {len(data)} bytes instead of {length}")
    return data


def _random_integer_uniform(low: int, high: int, rng: Rng) -> int:
    """A uniform integer in [low, high) by rejection sampling (RFC 9474 §2)."""
    bits = (high - 1).bit_length()
    length = (bits + 7) // 8
    mask = (1 << bits) - 1
    while True:
        candidate = int.from_bytes(_draw(rng, length), "big") & mask
        if low <= candidate < high:
            return candidate


def _modulus_length(n: int) -> int:
    return (n.bit_length() + 7) // 8


# -- client side ---------------------------------------------------------------------------


def prepare(msg: bytes, variant: Variant = DEFAULT_VARIANT, rng: Rng = os.urandom) -> bytes:
    """RFC 9474 §4.1: prefix 32 random bytes (randomized variants) or pass through."""
    if variant.randomized:
        return _draw(rng, PREFIX_LENGTH) + msg
    return msg


def blind(
    public_key: rsa.RSAPublicKey,
    msg: bytes,
    variant: Variant = DEFAULT_VARIANT,
    rng: Rng = os.urandom,
) -> Blinded:
    """RFC 9474 §4.3 Blind: encode the prepared ``msg`` and hide it as ``m * r^e mod n``.

    The RFC draws ``r`` and inverts it; this draws the inverse ``inv`` uniformly and
    inverts that into ``r``. Inversion is a bijection on the units mod ``n``, so the
    distribution is the same, and the RFC vectors (which list ``inv``) replay as given.
    The randomness is drawn in the RFC's order: the PSS salt, then ``inv``.
    """
    numbers = public_key.public_numbers()
    n, e = numbers.n, numbers.e
    encoded = emsa_pss_encode(msg, n.bit_length() - 1, variant.salt_length, rng)
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, n) != 1:
        raise BlindSignatureError(
            "the encoded message is not coprime to the modulus", code=ErrorCode.INVALID_INPUT
        )
    inv = _random_integer_uniform(1, n, rng)
    try:
        r = pow(inv, -1, n)
    except ValueError:
        raise BlindSignatureError(
            "the blinding value has no inverse modulo n", code=ErrorCode.BLINDING_ERROR
        ) from None
    z = m * pow(r, e, n) % n
    k = _modulus_length(n)
    return Blinded(BlindedMessage(z.to_bytes(k, "big")), inv.to_bytes(k, "big"))


def finalize(
    public_key: rsa.RSAPublicKey,
    msg: bytes,
    blind_sig: bytes,
    inv: bytes,
    variant: Variant = DEFAULT_VARIANT,
) -> bytes:
    """RFC 9474 §4.5 Finalize: unblind the server's answer and check it is a signature."""
    n = public_key.public_numbers().n
    k = _modulus_length(n)
    if len(blind_sig) != k or len(inv) != k:
        raise BlindSignatureError(
            f"the blind signature must be {k} bytes long", code=ErrorCode.UNEXPECTED_INPUT_SIZE
        )
    s = int.from_bytes(blind_sig, "big") * int.from_bytes(inv, "big") % n
    sig = s.to_bytes(k, "big")
    verify(public_key, msg, sig, variant)
    return sig


def verify(
    public_key: rsa.RSAPublicKey,
    msg: bytes,
    sig: bytes,
    variant: Variant = DEFAULT_VARIANT,
) -> None:
    """RFC 9474 §4.6 Verify: a plain RSASSA-PSS verification (RFC 8017 §8.1.2)."""
    try:
        public_key.verify(sig, msg, pss_padding(variant), hashes.SHA384())
    except InvalidSignature:
        raise BlindSignatureError(
            "the signature does not verify", code=ErrorCode.INVALID_SIGNATURE
        ) from None


# -- server side ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class BlindSigningKey:
    """An RSA private key prepared for fast, hardened blind signing.

    Build it once per election key (``from_private_key``) and reuse it: the CRT
    components are converted to GMP integers up front. ``accelerate=False`` forces
    Python's own integers (what a machine without ``gmpy2`` does).
    """

    n: int
    e: int
    p: int
    q: int
    dp: int
    dq: int
    qinv: int
    accelerate: bool = True
    _gmp: tuple[Any, ...] | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.accelerate and _gmpy2 is not None:
            mpz = _gmpy2.mpz
            gmp = tuple(mpz(x) for x in (self.n, self.e, self.p, self.q, self.dp, self.dq))
            object.__setattr__(self, "_gmp", (*gmp, mpz(self.qinv)))

    @classmethod
    def from_private_key(
        cls, private_key: rsa.RSAPrivateKey, *, accelerate: bool = True
    ) -> BlindSigningKey:
        numbers = private_key.private_numbers()
        public = numbers.public_numbers
        return cls(
            n=public.n,
            e=public.e,
            p=numbers.p,
            q=numbers.q,
            dp=numbers.dmp1,
            dq=numbers.dmq1,
            qinv=numbers.iqmp,
            accelerate=accelerate,
        )

    @property
    def modulus_length(self) -> int:
        return _modulus_length(self.n)

    @property
    def uses_gmpy2(self) -> bool:
        return self._gmp is not None

    def public_key(self) -> rsa.RSAPublicKey:
        return rsa.RSAPublicNumbers(self.e, self.n).public_key()

    def __repr__(self) -> str:
        return f"BlindSigningKey(bits={self.n.bit_length()}, gmpy2={self.uses_gmpy2})"


def _sign_blinded_python(key: BlindSigningKey, m: int, u: int) -> int:
    n = key.n
    c = m * pow(u, key.e, n) % n
    sp = pow(c % key.p, key.dp, key.p)
    sq = pow(c % key.q, key.dq, key.q)
    h = key.qinv * (sp - sq) % key.p
    return (sq + h * key.q) * pow(u, -1, n) % n


def _sign_blinded_gmp(gmp: tuple[Any, ...], m: int, u: int) -> int:
    g = _gmpy2
    n, e, p, q, dp, dq, qinv = gmp
    c = g.mpz(m) * g.powmod(u, e, n) % n
    sp = g.powmod_sec(c % p, dp, p)
    sq = g.powmod_sec(c % q, dq, q)
    h = qinv * (sp - sq) % p
    return int((sq + h * q) * g.invert(u, n) % n)


def blind_sign(
    key: BlindSigningKey | rsa.RSAPrivateKey,
    blinded_msg: bytes,
    rng: Rng = os.urandom,
) -> BlindSignature:
    """RFC 9474 §4.4 BlindSign, with RSA blinding of the private operation.

    ``rng`` supplies the server's own blinding factor; the answer does not depend on
    it. Raises ``SigningFailure`` if the result fails the ``s^e mod n == m`` check.
    """
    if isinstance(key, rsa.RSAPrivateKey):
        key = BlindSigningKey.from_private_key(key)
    k = key.modulus_length
    if len(blinded_msg) != k:
        raise BlindSignatureError(
            f"the blinded message must be {k} bytes long", code=ErrorCode.UNEXPECTED_INPUT_SIZE
        )
    m = int.from_bytes(blinded_msg, "big")
    if m >= key.n:
        raise BlindSignatureError(
            "message representative out of range",
            code=ErrorCode.MESSAGE_REPRESENTATIVE_OUT_OF_RANGE,
        )
    u = _random_integer_uniform(1, key.n, rng)
    while math.gcd(u, key.n) != 1:  # pragma: no cover - probability about 2^-1000
        u = _random_integer_uniform(1, key.n, rng)
    if key._gmp is not None:
        s = _sign_blinded_gmp(key._gmp, m, u)
        check = int(_gmpy2.powmod(s, key._gmp[1], key._gmp[0]))
    else:
        s = _sign_blinded_python(key, m, u)
        check = pow(s, key.e, key.n)
    if check != m:
        raise SigningFailure(
            "the signature failed its own check and was withheld", code=ErrorCode.SIGNING_FAILURE
        )
    return BlindSignature(s.to_bytes(k, "big"))
