"""``veche bench trustees``: the key ceremony and the close of an election with trustees.

docs/protocol.md §14, §17. All in one process, through the pure core the trustees'
machines and the server run (``ballot.core.dkg``, ``ballot.core.threshold``):

- the ceremony for 3 and for 7 trustees (threshold n // 2 + 1): every trustee deals,
  the server checks every dealing, every trustee opens and checks its n shares and
  acknowledges, the server checks every acknowledgement and builds the manifest's block;
- the close for 10,000 ballots sealed to the joint key: k key shares checked, the
  scalar rebuilt, every ballot's seal opened with it (the ballots are sealed before the
  clock starts);

beside the raw libsodium operations measured in the same run: the Edwards25519 scalar
multiplication (one per ballot opened, a few per share checked) and an X25519 HPKE
opening with an ordinary private key (what a server holding the key did per ballot);

- ``veche verify`` of a 100,000-ballot election with trustees, end to end as a user runs
  it, in ballots per second beside the raw opening of one of its ballots
  (``veche.bench.trustees_verify``).
Times are whole microseconds or milliseconds; nothing here is a float.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from nacl.bindings import crypto_scalarmult_ed25519_noclamp

from audit.core.canonical import b64url_encode
from ballot.core import dkg, group, seal, threshold
from veche.bench.crypto import measure

__all__ = ["add_trustees_bench", "ceremony_ms", "close_ms"]

ELECTION = "bench-2026"


def _identities(n: int) -> list[dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

    people = []
    for j in range(1, n + 1):
        signing = ed25519.Ed25519PrivateKey.generate()
        box = x25519.X25519PrivateKey.generate()
        people.append(
            {
                "signing": signing.private_bytes_raw(),
                "box": box.private_bytes_raw(),
                "member": {
                    "name": f"Trustee {j}",
                    "signing_key": b64url_encode(signing.public_key().public_bytes_raw()),
                    "box_key": b64url_encode(box.public_key().public_bytes_raw()),
                },
            }
        )
    return people


def _ceremony(n: int, k: int) -> tuple[int, dict[str, Any], dict[int, dict[str, Any]], bytes]:
    """One whole ceremony; its time (µs), the manifest block, the signed key shares
    (as ``election.key_share`` bodies), the joint key."""
    people = _identities(n)
    members = [p["member"] for p in people]
    started = time.perf_counter_ns()
    ceremony = dkg.ceremony_id(ELECTION, k, members)
    dealings = [
        dkg.make_dealing(ceremony, j, k, members, p["signing"], os.urandom)
        for j, p in enumerate(people, start=1)
    ]
    for signed in dealings:  # the server, before it keeps each
        dkg.check_dealing(ceremony, signed, k, members)
    shares: dict[int, bytes] = {}
    acks = []
    for j, p in enumerate(people, start=1):
        shares[j] = dkg.open_my_shares(ceremony, dealings, j, p["box"], k, members)
        acks.append(dkg.make_ack(ceremony, j, dealings, shares[j], p["signing"]))
    for ack in acks:
        dkg.check_ack(ceremony, ack, dealings, members)
    block = dkg.manifest_trustees(ceremony, k, members, dealings, acks)
    elapsed = (time.perf_counter_ns() - started) // 1000
    bodies = {
        j: threshold.sign_key_share("00" * 32, j, shares[j], people[j - 1]["signing"])
        for j in shares
    }
    return elapsed, block, bodies, dkg.joint_key(dealings)


def ceremony_ms(n: int) -> int:
    """Milliseconds of a ceremony of ``n`` trustees, threshold ``n // 2 + 1``."""
    return _ceremony(n, n // 2 + 1)[0] // 1000


def close_ms(ballots: int, n: int = 3) -> tuple[int, int, int]:
    """The close of ``ballots`` ballots with ``n`` trustees: (milliseconds to check k
    shares and rebuild the scalar, milliseconds to open every ballot, k)."""
    k = n // 2 + 1
    _elapsed, block, bodies, joint = _ceremony(n, k)
    election = bytes(32)
    public = group.x25519_of(joint)
    plaintext = b'{"choices":{"approve":["park"]},"nonce":"AAAAAAAAAAAAAAAAAAAAAA"}'
    sealed = []
    for _ in range(ballots):
        credential = os.urandom(32)
        sealed.append((seal.seal(public, election, plaintext, credential), credential))
    started = time.perf_counter_ns()
    valid = {
        j: threshold.check_key_share(bodies[j], block, election="00" * 32)
        for j in sorted(bodies)[:k]
    }
    scalar = threshold.reconstruct(valid)
    rebuilt = time.perf_counter_ns()
    for box, credential in sealed:
        threshold.open_sealed_with_scalar(scalar, box, seal.seal_info(election, credential))
    done = time.perf_counter_ns()
    return (rebuilt - started) // 1_000_000, (done - rebuilt) // 1_000_000, k


def run_trustees_bench(args: argparse.Namespace) -> int:
    print("veche bench trustees — figures from this machine, this run")
    point = group.base_mul(group.random_scalar(os.urandom))
    scalar = group.random_scalar(os.urandom)
    raw_mul = measure(
        "ed25519 scalar mult", lambda: crypto_scalarmult_ed25519_noclamp(scalar, point)
    )
    private, public = seal.generate_keypair()
    election = bytes(32)
    one = seal.seal(public, election, b"x" * 64)
    raw_open = measure("hpke open", lambda: seal.open_sealed(private, election, one))
    print(
        f"\nRaw libsodium Edwards25519 scalar multiplication: {raw_mul.microseconds_each} µs "
        f"({raw_mul.per_second:,}/s on one core)"
    )
    print(
        f"Raw X25519 HPKE opening with a private key: {raw_open.microseconds_each} µs "
        f"({raw_open.per_second:,}/s)"
    )
    print("\nKey ceremony (all trustees and the server's checks, one process):")
    for n in args.trustees:
        print(f"  {n} trustees, threshold {n // 2 + 1}: {ceremony_ms(n):,} ms", flush=True)
    print("\nClose (k key shares checked, the scalar rebuilt, every ballot opened):")
    for ballots in args.ballots:
        shares, opening, k = close_ms(ballots)
        each = opening * 1000 // max(ballots, 1)
        print(
            f"  {ballots:,} ballots, {k} shares: shares {shares:,} ms, opening "
            f"{opening:,} ms ({each} µs a ballot; raw X25519 opening "
            f"{raw_open.microseconds_each} µs)",
            flush=True,
        )
    for ballots in args.verify_ballots:
        _print_verify(ballots, args.key_bits)
    return 0


def _print_verify(ballots: int, key_bits: int) -> None:
    from veche.bench.trustees_verify import verify_trustee_election

    print(
        f"\nveche verify of an election with 3 trustees (2 released), {ballots:,} ballots, "
        f"{key_bits}-bit credential key (log made without a server, exported, verified by "
        "`veche verify DIR --key VKEY` in its own process):",
        flush=True,
    )
    f = verify_trustee_election(ballots, key_bits=key_bits)
    raw_rate = 1_000_000 // max(f.open_scalar_us, 1)
    print(
        f"  log of {f.entries:,} entries made in {f.make_ms:,} ms\n"
        f"  veche verify: {f.verify_ms:,} ms = {f.ballots_per_second:,} ballots/s\n"
        f"  the election checks alone (no log checks), in this process with one worker: "
        f"{f.elections_ms:,} ms = {f.ballots * 1000 // max(f.elections_ms, 1):,} ballots/s\n"
        f"  raw opening of one of its ballots with the rebuilt scalar: {f.open_scalar_us} µs "
        f"({raw_rate:,}/s on one core); with an ordinary X25519 key: {f.open_private_us} µs",
        flush=True,
    )


def add_trustees_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = bench_subparsers.add_parser(
        "trustees", help="key ceremony and close with trustees against raw libsodium"
    )
    parser.add_argument(
        "--trustees", type=int, nargs="+", default=[3, 7], help="ceremony sizes (default 3 7)"
    )
    parser.add_argument(
        "--ballots", type=int, nargs="+", default=[10_000], help="ballots at the close"
    )
    parser.add_argument(
        "--verify-ballots",
        type=int,
        nargs="*",
        default=[100_000],
        help="ballots of the election `veche verify` checks (default 100000; none to skip)",
    )
    parser.add_argument(
        "--key-bits",
        type=int,
        default=2048,
        choices=[1024, 2048, 3072],
        help="credential RSA key of that election (1024 only to make the log faster)",
    )
    parser.set_defaults(func=run_trustees_bench)
