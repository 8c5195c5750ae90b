"""``veche bench load``: a sustained cast load against a real server, reported over time.

A ``veche serve`` process gets an election with a production-size key; a few hundred
voters obtain credentials, then the load generator keeps ``--concurrency`` voters
re-voting for ``--seconds`` (60 by default): every ballot is new (fresh nonce and seal),
prepared before the clock starts. Every ten seconds it reports throughput and p50/p99
latency, and the server's resident memory (RSS, from ``/proc``) before the load, at the
end of it, and after a short rest, so that a leak would show as growth.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import msgspec

from audit.core.canonical import b64url_decode
from ballot.core.manifest import load_credential_key
from ballot.core.token import finalize
from veche.bench.cast import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    KeepAlive,
    make_ballots,
    prepare_election,
    prepare_requests,
    send,
    serve,
)

WINDOW_S = 10


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, in KiB (0 where /proc is absent)."""
    from veche.bench.cast import _proc_tree

    total = 0
    for member in _proc_tree(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def sustained(
    url: str, bodies: list[bytes], path: str, concurrency: int, seconds: int
) -> list[tuple[int, int, int]]:
    """Send until ``seconds`` pass; each completed request as (end ns, latency ns, ok)."""
    done: list[tuple[int, int, int]] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    start = time.perf_counter_ns()
    stop_at = start + seconds * 1_000_000_000

    def worker() -> None:
        with KeepAlive(url, timeout=60) as conn:
            while time.perf_counter_ns() < stop_at:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                began = time.perf_counter_ns()
                ok = conn.post(path, bodies[index])[0] == 201
                ended = time.perf_counter_ns()
                with lock:
                    done.append((ended - start, ended - began, int(ok)))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done


def windows(
    done: list[tuple[int, int, int]], seconds: int
) -> list[tuple[int, int, int, int, int, int]]:
    """Per window: (start s, ballots, failures, p50 µs, p99 µs, ballots per second).

    Requests still in flight when the ``seconds`` are up finish a little later; they
    count in the last window, whose rate is over the time it really lasted."""
    rows = []
    last_end = max((end for end, _lat, _ok in done), default=0)
    last_window = max(0, (seconds - 1) // WINDOW_S * WINDOW_S)

    def window_of(end_ns: int) -> int:
        return min(end_ns // 1_000_000_000 // WINDOW_S * WINDOW_S, last_window)

    for first in range(0, last_window + 1, WINDOW_S):
        inside = [(lat, ok) for end, lat, ok in done if window_of(end) == first]
        if not inside:
            continue
        latencies = sorted(lat for lat, _ok in inside)
        p50 = latencies[len(latencies) // 2] // 1000
        p99 = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] // 1000
        failures = sum(1 for _lat, ok in inside if not ok)
        # Up to the last answer: a run out of prepared ballots ends inside a window.
        span_ns = max(1, last_end - first * 1_000_000_000)
        if first != last_window:
            span_ns = min(span_ns, WINDOW_S * 1_000_000_000)
        rows.append(
            (first, len(inside), failures, p50, p99, len(inside) * 1_000_000_000 // span_ns)
        )
    return rows


def run_load_bench(args: argparse.Namespace) -> int:
    from kernel.settings import Settings
    from veche.pgtemp import TempCluster
    from veche.setup import NewUser, create_user, initialize

    print(f"veche bench load — {args.seconds} s of re-votes from {args.concurrency} voters")
    engines = [("SQLite", "")]
    cluster = None
    if args.postgres:
        cluster = TempCluster.start(durable=True)
        engines = [("PostgreSQL", cluster.create_database())]
    try:
        with tempfile.TemporaryDirectory(prefix="veche-load-") as tmp:
            for name, url in engines:
                data_dir = Path(tmp) / name
                settings = Settings(data_dir=data_dir, database_url=url)
                engine = initialize(settings)
                create_user(
                    settings, engine, NewUser(ADMIN_EMAIL, ADMIN_PASSWORD, "Bench", "admin")
                )
                engine.dispose()
                with serve(data_dir, url, 1, Path(tmp) / f"{name}.log") as server:
                    _one(name, server, args)
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


def _one(name: str, server: Any, args: argparse.Namespace) -> None:
    manifest, election_hash, codes = prepare_election(server.url, args.voters, 2048)
    pending = prepare_requests(manifest, election_hash, codes)
    issued = send(server.url, [p.request for p in pending], 16, 200, server.process.pid)
    public = load_credential_key(manifest)
    holders = []
    for p, answer in zip(pending, issued.answers, strict=True):
        if answer:
            signature = b64url_decode(msgspec.json.decode(answer)["blind_signature"])
            token = finalize(public, p.state, signature)
            holders.append(
                (p.private, {"prefix": token["prefix"], "signature": token["signature"]})
            )
    count = args.seconds * args.max_rate
    print(f"{name}: {len(holders)} credentials; preparing {count:,} ballots …", flush=True)
    requests = make_ballots(manifest, holders, count)
    path = requests[0].path
    before = rss_kib(server.process.pid)
    done = sustained(server.url, [r.body for r in requests], path, args.concurrency, args.seconds)
    at_end = rss_kib(server.process.pid)
    time.sleep(5)
    rested = rss_kib(server.process.pid)
    total_ok = sum(ok for _e, _l, ok in done)
    span_s = max((end for end, _l, _ok in done), default=1) / 1e9
    print(f"  {'from s':>6} {'ballots':>8} {'fail':>5} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for first, ballots, failures, p50, p99, rate in windows(done, args.seconds):
        print(
            f"  {first:>6} {ballots:>8} {failures:>5} {rate:>7} "
            f"{p50 / 1000:>8.1f} {p99 / 1000:>8.1f}"
        )
    print(
        f"  total {total_ok:,} ballots in {span_s:.0f} s = {total_ok / span_s:,.0f}/s; "
        f"server RSS {before // 1024} MiB before, {at_end // 1024} MiB at the end, "
        f"{rested // 1024} MiB after 5 s of rest"
    )
    if len(done) >= count:
        print("  (ran out of prepared ballots before the time was up: raise --max-rate)")


def add_load_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = bench_subparsers.add_parser(
        "load", help="sustained cast load: throughput, p99 and memory over time"
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument(
        "--max-rate",
        type=int,
        default=2000,
        help="ballots per second to prepare for (an upper bound)",
    )
    parser.add_argument(
        "--postgres", action="store_true", help="run on a throwaway PostgreSQL instead of SQLite"
    )
    parser.set_defaults(func=run_load_bench)
