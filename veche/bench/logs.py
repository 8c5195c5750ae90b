"""Benchmark of the verifier and of proof serving (used by ``veche bench log``).

It builds a synthetic exported log (docs/protocol.md §3.16) of ``n`` valid, chained
``notice.published`` entries in a temporary directory, then measures:

- the verifier's throughput in entries per second (with the worker processes it
  picks by itself, reported as ``workers``), against raw ``hashlib.sha256``
  over the same bytes, both as one leaf hash per entry (the same hashing work the
  verifier must do at the least) and as one call over the whole file;
- the latency of an inclusion proof served through the ``get_node`` path
  (``audit.merkle``) from a node store of that size, and of its verification.

It prints nothing and returns the numbers. Unlike the rest of the core it reads a
clock, which is what a benchmark is for.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.core.chain import default_workers
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import GENESIS_KIND, ZERO_HASH, build_entry, leaf_hash, parse_entry
from audit.core.export import KeyInfo, write_export
from audit.core.merkle import MerkleTree, inclusion_proof, mth, verify_inclusion
from audit.core.verify import verify_log
from veche.kinds import entry_kinds

__all__ = ["bench_verify", "synthetic_entries"]

KINDS = entry_kinds()

ORIGIN = "bench.veche.example/log"
AT = "2026-11-23T10:00:00Z"


def synthetic_entries(n_entries: int, key: Ed25519PrivateKey) -> list[bytes]:
    """``n_entries`` chained entries: genesis, then notices built from a template.

    ``build_entry`` validates every body and would dominate the set-up time, so
    entries after the genesis are filled into a template that a sample of them is
    checked against.
    """
    info = KeyInfo.from_private_key(ORIGIN, key)
    genesis = build_entry(
        0,
        ZERO_HASH,
        AT,
        GENESIS_KIND,
        {
            "origin": ORIGIN,
            "public_key": info.public_key,
            "software": "veche bench",
            "verifier_key": info.verifier_key,
        },
        KINDS,
    )
    entries = [genesis]
    prev = leaf_hash(genesis).hex()
    head = b'{"at":"' + AT.encode() + b'","body":{"lang":"en","text":"'
    sha = hashlib.sha256
    for seq in range(1, n_entries):
        line = b"".join(
            (
                head,
                b"Notice number %d of the synthetic benchmark log; no personal data." % seq,
                b'","title":"Notice %d"},"kind":"notice.published","prev":"' % seq,
                prev.encode(),
                b'","seq":%d,"v":1}' % seq,
            )
        )
        entries.append(line)
        prev = sha(b"\x00" + line).hexdigest()
    for sample in entries[:: max(1, n_entries // 50)]:
        parse_entry(sample, KINDS)
    return entries


def bench_verify(n_entries: int) -> dict[str, Any]:
    """Build a synthetic log of ``n_entries`` and return throughput and latency numbers."""
    if n_entries < 1:
        raise ValueError("n_entries must be at least 1")
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"veche bench key").digest())
    info = KeyInfo.from_private_key(ORIGIN, key)
    entries = synthetic_entries(n_entries, key)
    leaves = [leaf_hash(e) for e in entries]
    note = sign_checkpoint(key, ORIGIN, Checkpoint(ORIGIN, n_entries, mth(leaves)))
    total_bytes = sum(len(e) + 1 for e in entries)

    with tempfile.TemporaryDirectory(prefix="veche-bench-") as tmp:
        directory = Path(tmp) / "log"
        write_export(directory, entries, note, info)
        del entries  # the verifier reads the directory, as an auditor's would

        sha = hashlib.sha256
        data = (directory / "entries.ndjson").read_bytes()
        lines = data.split(b"\n")[:-1]
        start = time.perf_counter()
        for line in lines:
            sha(b"\x00" + line).digest()
        raw_per_entry = time.perf_counter() - start
        start = time.perf_counter()
        sha(data).digest()
        raw_bulk = time.perf_counter() - start
        del data, lines

        start = time.perf_counter()
        report = verify_log(directory, kinds=KINDS, pinned_verifier_key=info.verifier_key)
        verify_seconds = time.perf_counter() - start
        ok = report.ok and report.entries == n_entries

    tree = MerkleTree(leaves)
    root = tree.root()
    samples = min(1000, n_entries)
    step = max(1, n_entries // samples)
    indices = list(range(0, n_entries, step))[:samples]
    start = time.perf_counter()
    proofs = [inclusion_proof(i, n_entries, tree.get_node) for i in indices]
    prove_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for i, proof in zip(indices, proofs, strict=True):
        verify_inclusion(leaves[i], i, n_entries, proof, root)
    check_seconds = time.perf_counter() - start

    verify_rate = n_entries / verify_seconds
    raw_rate = n_entries / raw_per_entry
    return {
        "entries": n_entries,
        "bytes": total_bytes,
        "ok": ok,
        "workers": default_workers(total_bytes),
        "verify_seconds": verify_seconds,
        "verify_entries_per_second": verify_rate,
        "sha256_per_entry_seconds": raw_per_entry,
        "sha256_per_entry_entries_per_second": raw_rate,
        "sha256_bulk_seconds": raw_bulk,
        "ratio_vs_sha256_per_entry": verify_rate / raw_rate,
        "ratio_vs_sha256_bulk": raw_bulk / verify_seconds,
        "inclusion_proof_samples": len(indices),
        "inclusion_proof_mean_microseconds": prove_seconds / len(indices) * 1e6,
        "inclusion_verify_mean_microseconds": check_seconds / len(indices) * 1e6,
        "inclusion_proof_length": len(proofs[-1]),
    }
