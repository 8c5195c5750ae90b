"""``veche bench witness``: the latency a witness round adds to an append (docs/protocol.md
§15.7), beside an append without witnesses, in the same run.

Two witnesses run as separate ``veche witness serve`` processes on this machine. Each
sample alternates: one append alone (through the store, a batch of one entry, durable),
then one append followed by a cosigning round to both witnesses (the consistency proof
read from the database, two ``add-checkpoint`` requests at once, both answers verified
and stored). The server never makes an append wait for a round; the figure is how much
later a cosigned checkpoint covering an entry exists than the entry itself, at best
(the configured interval comes on top).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from audit.core.cosignature import parse_witness_key
from audit.services.cosigner import Cosigner, WitnessEndpoint
from audit.services.store import BatchLog, LogStore
from kernel.settings import Settings
from veche.setup import initialize
from veche.wiring import log_store
from veche.witness_process import WitnessProcess, start_witness

NOTICE = {"title": "benchmark notice", "text": "x" * 64, "lang": "en"}


def _witness(tmp: Path, name: str, origin: str, log_vkey: str) -> WitnessProcess:
    key = tmp / f"{name}.key"
    subprocess.run(
        [sys.executable, "-m", "veche.cli", "witness", "keygen",
         "--name", f"bench.witness/{name}", "--out", str(key)],
        capture_output=True,
        check=True,
    )  # fmt: skip
    return start_witness(key, tmp / f"{name}.db", f"{origin}={log_vkey}")


def _quantiles(samples: list[int]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": ordered[len(ordered) // 2] / 1e6,
        "p99_ms": ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] / 1e6,
    }


def measure(store: LogStore, cosigner: Cosigner, samples: int) -> dict[str, dict[str, float]]:
    def work(_db: Session, log: BatchLog) -> None:
        log.append("notice.published", NOTICE)

    alone: list[int] = []
    witnessed: list[int] = []
    rounds: list[int] = []
    for _ in range(samples):
        started = time.perf_counter_ns()
        store.append_now(work)
        alone.append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        store.append_now(work)
        appended = time.perf_counter_ns()
        if cosigner.cosign_latest() != len(cosigner.endpoints):
            raise RuntimeError("a witness did not cosign; see the witness's output")
        done = time.perf_counter_ns()
        witnessed.append(done - started)
        rounds.append(done - appended)
    return {
        "append alone": _quantiles(alone),
        "append + cosigning round": _quantiles(witnessed),
        "cosigning round (2 witnesses)": _quantiles(rounds),
    }


def run_witness_bench(args: argparse.Namespace) -> int:
    print("veche bench witness — figures from this machine, this run (SQLite)")
    witnesses: list[WitnessProcess] = []
    with tempfile.TemporaryDirectory(prefix="veche-bench-witness-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "var")
        engine = initialize(settings)
        store = log_store(settings, engine)
        try:
            endpoints = []
            for name in ("w1", "w2"):
                witness = _witness(Path(tmp), name, settings.origin, store.key_info.verifier_key)
                witnesses.append(witness)
                endpoints.append(WitnessEndpoint(witness.url, parse_witness_key(witness.vkey)))
            cosigner = Cosigner(store, endpoints, policy=len(endpoints))
            measure(store, cosigner, 5)  # warm up: connections, caches, first 409
            figures = measure(store, cosigner, args.samples)
        finally:
            for witness in witnesses:
                witness.stop()
            engine.dispose()
    print(f"{'':32} {'p50 ms':>9} {'p99 ms':>9}   ({args.samples} samples each)")
    for name, row in figures.items():
        print(f"{name:32} {row['p50_ms']:9.2f} {row['p99_ms']:9.2f}")
    added = figures["append + cosigning round"]["p50_ms"] - figures["append alone"]["p50_ms"]
    print(f"added to an append by witnessing (p50): {added:.2f} ms; appends never wait for it")
    return 0


def add_witness_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = bench_subparsers.add_parser(
        "witness", help="cosignature latency added to an append, beside an append alone"
    )
    parser.add_argument("--samples", type=int, default=200, help="samples of each (default 200)")
    parser.set_defaults(func=run_witness_bench)
