"""``veche bench trustees``, part two: ``veche verify`` of a large election with trustees.

docs/protocol.md §10, §14.11. A valid log of an election with trustees is made without
a server (``veche.bench.synthetic.election_log`` with ``trustees``: the ceremony, the
ballots sealed to the joint key, k key shares and the unsealing, the signed result),
exported as ``veche export`` writes it, and verified by ``veche verify DIR --key VKEY``
run as its own process, as a user runs it. Beside the ballots per second it prints the
raw cost of opening one ballot of that election with the rebuilt scalar and with an
ordinary X25519 private key, measured in the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.canonical import b64url_decode
from audit.core.export import write_export
from ballot.core import kinds, seal, threshold
from ballot.core.verify import check_elections
from veche.bench.crypto import measure
from veche.bench.synthetic import election_log

__all__ = ["VerifyFigures", "verify_trustee_election"]


@dataclass(frozen=True)
class VerifyFigures:
    """One run: the log's making and its verification, and the raw openings."""

    ballots: int
    entries: int
    make_ms: int
    verify_ms: int
    ballots_per_second: int
    open_scalar_us: int
    open_private_us: int
    elections_ms: int


def _opening_costs(lines: list[bytes]) -> tuple[int, int]:
    """Microseconds to open one ballot of this election with its scalar (§14.8), and
    one sealed to an ordinary X25519 key with its private key (§2.12)."""
    opened = unsealed = None
    for line in lines:
        entry = json.loads(line)
        if entry["kind"] == kinds.ELECTION_OPENED:
            opened = entry["body"]
        elif entry["kind"] == kinds.ELECTION_UNSEALED:
            unsealed = entry["body"]
    assert opened is not None and unsealed is not None
    scalar = b64url_decode(unsealed["sealing_scalar"])
    public = b64url_decode(opened["manifest"]["sealing_key"])
    election = bytes.fromhex(opened["manifest_hash"])
    credential = os.urandom(32)
    plaintext = b'{"choices":{"approve":["p1","p2"]},"nonce":"AAAAAAAAAAAAAAAAAAAAAA"}'
    box = seal.seal(public, election, plaintext, credential)
    info = seal.seal_info(election, credential)
    with_scalar = measure(
        "open with scalar", lambda: threshold.open_sealed_with_scalar(scalar, box, info)
    )
    private, ordinary = seal.generate_keypair()
    other = seal.seal(ordinary, election, plaintext, credential)
    with_private = measure(
        "open with key", lambda: seal.open_sealed(private, election, other, credential)
    )
    return with_scalar.microseconds_each, with_private.microseconds_each


def verify_trustee_election(
    ballots: int, *, k: int = 2, n: int = 3, key_bits: int = 2048, say: object = print
) -> VerifyFigures:
    """Make, export and ``veche verify`` an election of ``ballots`` ballots with n
    trustees of whom k released; the figures. A failing verification raises."""
    started = time.perf_counter_ns()
    lines, note, info = election_log(
        ballots,
        key_bits=key_bits,
        rng=os.urandom,
        authority=Ed25519PrivateKey.generate(),
        trustees=(k, n),
    )
    make_ms = (time.perf_counter_ns() - started) // 1_000_000
    open_scalar_us, open_private_us = _opening_costs(lines)
    with tempfile.TemporaryDirectory(prefix="veche-bench-") as tmp:
        directory = Path(tmp) / "log"
        write_export(directory, lines, note, info)
        command = [sys.executable, "-m", "veche.cli", "verify", str(directory)]
        command += ["--key", info.verifier_key, "--no-state"]
        started = time.perf_counter_ns()
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        verify_ms = (time.perf_counter_ns() - started) // 1_000_000
    if done.returncode != 0:
        raise RuntimeError(f"veche verify failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    # The election checks alone (what `veche verify` does after the log's own checks),
    # in this process and one worker: where the time per ballot goes.
    started = time.perf_counter_ns()
    report = check_elections(lines, workers=1)
    elections_ms = (time.perf_counter_ns() - started) // 1_000_000
    if report.failures:
        raise RuntimeError(f"the election checks failed: {report.failures[:3]}")
    return VerifyFigures(
        ballots=ballots,
        entries=len(lines),
        make_ms=make_ms,
        verify_ms=verify_ms,
        ballots_per_second=ballots * 1000 // max(verify_ms, 1),
        open_scalar_us=open_scalar_us,
        open_private_us=open_private_us,
        elections_ms=elections_ms,
    )
