"""Speed of the ballot package's cryptographic operations on this machine.

Measures what bounds credential issuance and casting: the RFC 9474 §4.4 blind-sign
private operation (with Python's ``pow`` and with ``gmpy2``, which ``ballot.blind`` uses
when it can), the RSA-PSS token check (RFC 9474 §4.6), Ed25519 ballot-signature checks
(RFC 8032 §5.1.7) and HPKE opening (RFC 9180 §6.1). Returns numbers and prints nothing;
``veche bench`` or a person decides how to show them. Rates are whole operations per
second (integers: no floats in Veche).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ballot.core import blind, seal, token

Clock = Callable[[], int]
DEFAULT_MIN_NS = 300_000_000  # keep measuring each operation for at least 0.3 s


@dataclass(frozen=True, slots=True)
class Speed:
    """How many times ``operation`` ran in ``elapsed_ns`` nanoseconds."""

    operation: str
    ops: int
    elapsed_ns: int

    @property
    def per_second(self) -> int:
        return self.ops * 1_000_000_000 // max(self.elapsed_ns, 1)

    @property
    def microseconds_each(self) -> int:
        return self.elapsed_ns // max(self.ops, 1) // 1000


def measure(
    operation: str,
    run: Callable[[], object],
    *,
    min_ns: int = DEFAULT_MIN_NS,
    clock: Clock = time.perf_counter_ns,
) -> Speed:
    """Call ``run`` in growing batches until ``min_ns`` have passed."""
    run()  # warm up (first-call costs, caches)
    ops, batch = 0, 1
    start = clock()
    elapsed = 0
    while elapsed < min_ns:
        for _ in range(batch):
            run()
        ops += batch
        batch = min(batch * 2, 256)
        elapsed = clock() - start
    return Speed(operation, ops, elapsed)


def blind_sign_speed(
    private_key: rsa.RSAPrivateKey,
    *,
    accelerate: bool,
    min_ns: int = DEFAULT_MIN_NS,
    clock: Clock = time.perf_counter_ns,
) -> Speed:
    """RFC 9474 BlindSign (blinded, CRT, self-checked) with gmpy2 or Python integers."""
    key = blind.BlindSigningKey.from_private_key(private_key, accelerate=accelerate)
    public_key = private_key.public_key()
    blinded = blind.blind(public_key, blind.prepare(b"bench", blind.DEFAULT_VARIANT))
    backend = "gmpy2" if key.uses_gmpy2 else "pow"
    name = f"blind_sign/{private_key.key_size}/{backend}"
    return measure(
        name, lambda: blind.blind_sign(key, blinded.blinded_msg), min_ns=min_ns, clock=clock
    )


def token_verify_speed(
    private_key: rsa.RSAPrivateKey,
    *,
    min_ns: int = DEFAULT_MIN_NS,
    clock: Clock = time.perf_counter_ns,
) -> Speed:
    """A credential token check: RSASSA-PSS verification by ``cryptography``."""
    public_key = private_key.public_key()
    credential = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    election = "00" * 32
    message = token.credential_message(credential, election)
    blinded_msg, state = token.prepare_and_blind(public_key, message)
    issued = token.finalize(public_key, state, blind.blind_sign(private_key, blinded_msg))
    return measure(
        f"token_verify/{private_key.key_size}",
        lambda: token.verify_token(public_key, credential, election, issued),
        min_ns=min_ns,
        clock=clock,
    )


def ed25519_verify_speed(
    *, min_ns: int = DEFAULT_MIN_NS, clock: Clock = time.perf_counter_ns
) -> Speed:
    """An Ed25519 ballot-signature check over a ballot-sized message."""
    private_key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    public_key = private_key.public_key()
    message = b"veche/ballot/v1\n" + b"x" * 400
    signature = private_key.sign(message)
    return measure(
        "ed25519_verify",
        lambda: public_key.verify(signature, message),
        min_ns=min_ns,
        clock=clock,
    )


def hpke_open_speed(*, min_ns: int = DEFAULT_MIN_NS, clock: Clock = time.perf_counter_ns) -> Speed:
    """Opening one sealed ballot (X25519, HKDF-SHA256, AES-128-GCM)."""
    private_raw, public_raw = seal.generate_keypair(os.urandom)
    manifest_hash = bytes(32)
    sealed = seal.seal(public_raw, manifest_hash, b"x" * 200)
    return measure(
        "hpke_open",
        lambda: seal.open_sealed(private_raw, manifest_hash, sealed),
        min_ns=min_ns,
        clock=clock,
    )


def run_all(
    bits: Iterable[int] = (2048, 3072),
    *,
    private_keys: Mapping[int, rsa.RSAPrivateKey] | None = None,
    min_ns: int = DEFAULT_MIN_NS,
    clock: Clock = time.perf_counter_ns,
) -> list[Speed]:
    """Every measurement above; RSA keys are generated unless given by size."""
    speeds: list[Speed] = []
    for size in bits:
        key = (private_keys or {}).get(size) or blind.generate_private_key(size)
        accelerations = (True, False) if blind.HAVE_GMPY2 else (False,)
        for accelerate in accelerations:
            speeds.append(blind_sign_speed(key, accelerate=accelerate, min_ns=min_ns, clock=clock))
        speeds.append(token_verify_speed(key, min_ns=min_ns, clock=clock))
    speeds.append(ed25519_verify_speed(min_ns=min_ns, clock=clock))
    speeds.append(hpke_open_speed(min_ns=min_ns, clock=clock))
    return speeds
