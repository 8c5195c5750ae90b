"""``veche bench log``: append throughput, verifier speed and proof latency, as figures.

Appends go through the real sequencer and database (SQLite in a temporary data
directory; PostgreSQL in a throwaway cluster, durable settings) with 1 and 64
concurrent writers. The verifier is measured on a synthetic exported log against raw
``hashlib.sha256`` over the same bytes in the same run (``audit.bench``), and
inclusion-proof latency is read from a database log of the same size.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog, LogStore
from kernel.settings import Settings
from veche.bench.logs import bench_verify
from veche.kinds import entry_kinds
from veche.pgtemp import TempCluster
from veche.setup import initialize
from veche.wiring import log_store

NOTICE = {"title": "benchmark notice", "text": "x" * 64, "lang": "en"}


def _store(settings: Settings) -> LogStore:
    engine = initialize(settings)
    return log_store(settings, engine)


def measure_appends(store: LogStore, writers: int, appends: int) -> dict[str, Any]:
    sequencer = Sequencer(store)
    per_writer = max(1, appends // writers)
    latencies: list[int] = []
    lock = threading.Lock()

    def work(_db: Session, log: BatchLog) -> int:
        return log.append("notice.published", NOTICE).seq

    def writer() -> None:
        mine = []
        for _ in range(per_writer):
            started = time.perf_counter_ns()
            sequencer.run(work)
            mine.append(time.perf_counter_ns() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sequencer.stop()
    latencies.sort()
    total = per_writer * writers
    return {
        "writers": writers,
        "appends": total,
        "seconds": elapsed,
        "per_second": total / elapsed,
        "batches": sequencer.batches,
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] / 1e6,
    }


def fill_log(store: LogStore, entries: int, chunk: int = 5000) -> float:
    """Append ``entries`` notices in large batches; return the seconds it took."""
    started = time.perf_counter()
    with store.read_sessions() as db:
        have = store.size(db)
    while have < entries:
        count = min(chunk, entries - have)

        def work(_db: Session, log: BatchLog, count: int = count) -> None:
            for _ in range(count):
                log.append("notice.published", NOTICE)

        store.append_now(work)
        have += count
    return time.perf_counter() - started


def measure_proofs(store: LogStore, samples: int = 1000) -> dict[str, Any]:
    with store.read_sessions() as db:
        size = store.size(db)
    rng = random.Random(7)
    timings = []
    for _ in range(samples):
        seq = rng.randrange(size)
        started = time.perf_counter_ns()
        with store.read_sessions() as db:
            store.inclusion_proof(db, seq, size)
        timings.append(time.perf_counter_ns() - started)
    timings.sort()
    return {
        "size": size,
        "samples": samples,
        "mean_ms": statistics.fmean(timings) / 1e6,
        "p99_ms": timings[samples * 99 // 100] / 1e6,
    }


def run_log_bench(args: argparse.Namespace) -> int:
    print("veche bench log — figures from this machine, this run")
    rows: list[tuple[str, dict[str, Any]]] = []
    cluster: TempCluster | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="veche-bench-") as tmp:
            engines = [("SQLite", "")]
            if not args.skip_postgres:
                cluster = TempCluster.start(durable=True)
                engines.append(("PostgreSQL", ""))
            for name, _ in engines:
                for writers in (1, 64):
                    url = cluster.create_database() if name == "PostgreSQL" and cluster else ""
                    settings = Settings(data_dir=Path(tmp) / f"{name}-{writers}", database_url=url)
                    store = _store(settings)
                    appends = args.appends if writers > 1 else max(200, args.appends // 20)
                    result = measure_appends(store, writers, appends)
                    rows.append((name, result))
                    store.engine.dispose()
            print("\nAppends through the sequencer (durable commits):")
            print(
                f"  {'engine':<11} {'writers':>7} {'appends':>8} {'per s':>9} "
                f"{'batches':>8} {'p50 ms':>8} {'p99 ms':>8}"
            )
            for name, r in rows:
                print(
                    f"  {name:<11} {r['writers']:>7} {r['appends']:>8} {r['per_second']:>9,.0f} "
                    f"{r['batches']:>8} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
                )

            print(f"\nVerifier over a synthetic exported log of {args.entries:,} entries:")
            figures = bench_verify(args.entries)
            print(
                f"  verified: {'OK' if figures['ok'] else 'FAILED'} in "
                f"{figures['verify_seconds']:.2f} s = "
                f"{figures['verify_entries_per_second']:,.0f} entries/s"
            )
            print(
                f"  raw hashlib.sha256, one leaf hash per entry: "
                f"{figures['sha256_per_entry_entries_per_second']:,.0f} entries/s"
            )
            print(
                f"  ratio verifier / raw hashing: {figures['ratio_vs_sha256_per_entry']:.0%} "
                f"(one sha256 over the whole file: "
                f"{figures['ratio_vs_sha256_bulk']:.0%})"
            )

            settings = Settings(data_dir=Path(tmp) / "proofs")
            store = _store(settings)
            seconds = fill_log(store, args.entries)
            proofs = measure_proofs(store)
            print(
                f"\nInclusion proofs from the SQLite log of {proofs['size']:,} entries "
                f"(filled in {seconds:.1f} s):"
            )
            print(
                f"  mean {proofs['mean_ms']:.3f} ms, p99 {proofs['p99_ms']:.3f} ms "
                f"over {proofs['samples']} random entries (database reads included)"
            )
            store.engine.dispose()
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


def add_log_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = bench_subparsers.add_parser(
        "log", help="append throughput, verifier speed and inclusion-proof latency"
    )
    parser.add_argument(
        "--entries",
        type=int,
        default=1_000_000,
        help="size of the log for the verifier and proofs (default 1,000,000)",
    )
    parser.add_argument(
        "--appends",
        type=int,
        default=20_000,
        help="appends measured with 64 writers (default 20,000)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    parser.set_defaults(func=run_log_bench)


def run_verify_bench(args: argparse.Namespace) -> int:
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.core.export import write_export
    from ballot.core.verify import check_elections
    from veche.bench.crypto import ed25519_verify_speed
    from veche.bench.synthetic import election_log

    cores = os.cpu_count() or 1
    print("veche bench verify — figures from this machine, this run")
    what = "survey (8 questions)" if args.survey else "election"
    print(
        f"Making a valid {what} log of {args.voters:,} voters ({args.key_bits}-bit key)…",
        flush=True,
    )
    started = time.perf_counter()
    lines, note, info = election_log(
        args.voters,
        key_bits=args.key_bits,
        rng=os.urandom,
        authority=Ed25519PrivateKey.generate(),
        survey=args.survey,
    )
    print(f"  made in {time.perf_counter() - started:.1f} s")
    raw = ed25519_verify_speed()
    limit = raw.per_second * cores
    print(
        f"\nRaw Ed25519 verification: {raw.per_second:,}/s on one core; "
        f"× {cores} cores = {limit:,}/s"
    )
    with tempfile.TemporaryDirectory(prefix="veche-bench-") as tmp:
        directory = Path(tmp) / "log"
        write_export(directory, lines, note, info)
        for workers in sorted({1, cores}):
            started = time.perf_counter()
            report = check_elections(lines, workers=workers)
            seconds = time.perf_counter() - started
            assert not report.failures, report.failures[:3]
            rate = args.voters / seconds
            print(
                f"  election checks, {workers} process(es): {seconds:.2f} s = "
                f"{rate:,.0f} ballots/s = {rate / limit:.0%} of the Ed25519 limit "
                f"({rate / raw.per_second:.0%} of one core's)"
            )
        started = time.perf_counter()
        log_report = verify_log_dir(directory, info.verifier_key)
        print(
            f"  log checks (chain, hashes, Merkle root, checkpoint): "
            f"{time.perf_counter() - started:.2f} s, {'OK' if log_report else 'FAILED'}"
        )
    print(
        "  Each ballot costs an RSA-PSS token check, an Ed25519 signature check, an X25519 "
        "key agreement and AES-GCM to open its seal, and the choices' validation"
        + ("; a survey's results are recomputed question by question." if args.survey else ".")
    )
    return 0


def verify_log_dir(directory: Path, verifier_key: str) -> bool:
    from audit.core.verify import verify_log

    return verify_log(directory, kinds=entry_kinds(), pinned_verifier_key=verifier_key).ok


def add_verify_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = bench_subparsers.add_parser(
        "verify", help="election verification speed against raw Ed25519 × cores"
    )
    parser.add_argument("--voters", type=int, default=5000, help="ballots in the log")
    parser.add_argument(
        "--key-bits",
        type=int,
        default=2048,
        choices=[1024, 2048, 3072],
        help="election RSA key size (1024 only to make the log faster)",
    )
    parser.add_argument(
        "--survey",
        action="store_true",
        help="a survey of eight questions instead of an approval election (docs/protocol.md §19)",
    )
    parser.set_defaults(func=run_verify_bench)
