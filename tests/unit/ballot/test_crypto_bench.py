"""The benchmark returns whole-number rates for every operation it names."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from ballot.core import blind
from veche.bench import crypto as crypto_bench


def test_run_all_measures_every_operation(rsa_private_key: rsa.RSAPrivateKey) -> None:
    speeds = crypto_bench.run_all((1024,), private_keys={1024: rsa_private_key}, min_ns=1_000_000)
    names = [speed.operation for speed in speeds]
    expected = ["blind_sign/1024/gmpy2"] if blind.HAVE_GMPY2 else []
    expected += ["blind_sign/1024/pow", "token_verify/1024", "ed25519_verify", "hpke_open"]
    assert names == expected
    for speed in speeds:
        assert speed.ops >= 1
        assert isinstance(speed.per_second, int) and speed.per_second > 0


def test_measure_uses_the_clock_it_is_given() -> None:
    ticks = iter(range(0, 10**12, 250_000_000))
    speed = crypto_bench.measure("noop", lambda: None, min_ns=10**9, clock=lambda: next(ticks))
    # Batches of 1, 2, 4, 8 each take one 0.25 s tick: 15 operations in 1 s.
    assert (speed.ops, speed.elapsed_ns, speed.per_second) == (15, 10**9, 15)
    assert speed.microseconds_each == 10**9 // 15 // 1000
