"""``veche bench cast``: credentials and ballots per second through a real server.

For each engine (SQLite in a temporary data directory; PostgreSQL in a throwaway
cluster with durable settings) and each number of server processes, a ``veche serve``
process is started, an election with a production-size (2048-bit) credential key is
opened with a roll and access codes, and then:

1. every voter's blinded credential request is prepared, then the requests are sent
   concurrently and timed (credentials issued per second: the server's RFC 9474 blind
   signature, the issuance record and its ``credential.issued`` entry);
2. the tokens are finalized and, for each concurrency level, signed and sealed ballots are
   made -- all before the clock starts, so the load generator's own cryptography is not
   what is measured -- then sent over HTTP from that many threads, each with its own
   keep-alive connection, and timed one by one (ballots per second, p50 and p99 latency).

With ``--survey`` the same is done, in the same run, for a city survey of eight questions
(``veche.bench.survey``, docs/protocol.md §19), and its ballots stand beside the approval
ballots in the report.

Beside the figures stand raw rates of this machine measured in the same run
(``ballot.crypto_bench``): Ed25519 verification beside ballots, RFC 9474 blind signing
beside credentials -- what one core could do if that operation were all a request cost.
CPU seconds of the server processes and of the load generator are read from ``/proc``
where there is one, so the figures say who used the two cores; and the number of signed
checkpoints says how many requests each committed log batch carried (group commit).

Times are integers (nanoseconds, microseconds); nothing here is a float.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from audit.core.canonical import b64url_decode, b64url_encode
from audit.services.models import LogCheckpoint
from ballot.core.ballot import ballot_json, make_ballot
from ballot.core.blind import generate_private_key
from ballot.core.config import format_time
from ballot.core.manifest import Manifest, load_credential_key, parse_manifest
from ballot.core.token import ClientState, credential_message, finalize, prepare_and_blind
from veche.bench import crypto as crypto_bench
from veche.bench.survey import city_survey, random_answers

__all__ = ["add_cast_bench", "run_cast_bench"]

ADMIN_EMAIL = "bench-admin@example.org"
ADMIN_PASSWORD = "bench-meadow-lantern-42"
ELECTION_ID = "bench-2026"
SURVEY_ID = "bench-survey-2026"
_SERVE = [sys.executable, "-m", "veche.cli", "serve"]
PROJECTS = [("park", 300_000), ("library", 250_000), ("playground", 200_000), ("lights", 150_000)]


# --- the server --------------------------------------------------------------------------
def _free_port() -> int:
    from veche.pgtemp import free_port

    return free_port()


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str


@contextmanager
def serve(data_dir: Path, database_url: str, workers: int, log: Path) -> Iterator[Server]:
    """``veche serve`` on a free port until the block ends."""
    port = _free_port()
    env = {**os.environ, "VECHE_DATA_DIR": str(data_dir)}
    env.pop("VECHE_ALLOW_TEST_KEYS", None)
    env.pop("VECHE_CONFIG", None)
    if database_url:
        env["VECHE_DATABASE_URL"] = database_url
    else:
        env.pop("VECHE_DATABASE_URL", None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*_SERVE, "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early; see {log}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /health within 60 s")
            time.sleep(0.1)
        yield Server(process, url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _proc_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``; just ``pid`` elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return [pid]
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_ms(pid: int) -> int:
    """User + system CPU milliseconds of a process tree so far (0 without ``/proc``)."""
    ticks = 0
    for member in _proc_tree(pid):
        try:
            with open(f"/proc/{member}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks * 1000 // os.sysconf("SC_CLK_TCK")


def own_cpu_ms() -> int:
    times = os.times()
    return int((times.user + times.system) * 1000)


# --- preparing the election and the voters --------------------------------------------------
def _when(minutes: int) -> str:
    return format_time(datetime.now(UTC) + timedelta(minutes=minutes))


def election_config(key_bits: int, kind: str = "approval") -> dict[str, Any]:
    if kind == "survey":
        # The city survey of eight questions, one of each kind (docs/protocol.md §19).
        return city_survey(
            id=SURVEY_ID,
            district="centre",
            window={"opens_at": _when(-1), "closes_at": _when(360)},
            eligibility={"roll": True, "access_codes": True},
            rsa_key_bits=key_bits,
        )
    return {
        "id": ELECTION_ID,
        "title": "Benchmark election",
        "district": "centre",
        "budget": 1_000_000,
        "currency": "RUB",
        "projects": [{"id": p, "title": p.title(), "cost": c} for p, c in PROJECTS],
        "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 3},
        "rule": {"name": "mes", "completion": "add1"},
        "window": {"opens_at": _when(-1), "closes_at": _when(360)},
        "eligibility": {"roll": True, "access_codes": True},
        "rsa_key_bits": key_bits,
    }


def _ok(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response.json() if "json" in response.headers.get("content-type", "") else None


def prepare_election(
    url: str, voters: int, key_bits: int, kind: str = "approval"
) -> tuple[Manifest, str, list[str]]:
    """Log in as the admin, create the election, add the roll, make the codes, open it
    (opening commits the electorate and freezes the roll and the codes)."""
    config = election_config(key_bits, kind)
    election_id = config["id"]
    with httpx.Client(base_url=url, timeout=300) as admin:
        login = admin.post(
            "/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        admin.headers["X-CSRF-Token"] = _ok(login, 200, "log-in")["csrf_token"]
        _ok(admin.post("/api/v1/elections", json=config), 201, "create")
        roll = "voter_id\n" + "".join(f"V{n:06d}\n" for n in range(voters))
        _ok(
            admin.post(
                f"/api/v1/elections/{election_id}/roll",
                content=roll.encode(),
                headers={"content-type": "text/csv"},
            ),
            201,
            "roll",
        )
        made = admin.post(f"/api/v1/elections/{election_id}/access-codes")
        if made.status_code != 201:
            raise RuntimeError(f"access codes: HTTP {made.status_code} {made.text[:300]}")
        codes = [line.split(",")[1] for line in made.text.strip().split("\n")[1:]]
        _ok(admin.post(f"/api/v1/elections/{election_id}/open"), 200, "open")
        view = _ok(admin.get(f"/api/v1/elections/{election_id}/manifest"), 200, "manifest")
    manifest = parse_manifest(view["manifest"])
    return manifest, str(view["manifest_hash"]), codes


@dataclass
class Request:
    path: str
    body: bytes


@dataclass
class Pending:
    private: Ed25519PrivateKey
    credential: str
    state: ClientState
    request: Request


def prepare_requests(manifest: Manifest, election_hash: str, codes: Sequence[str]) -> list[Pending]:
    public = load_credential_key(manifest)
    pending = []
    for code in codes:
        private = Ed25519PrivateKey.generate()
        credential = b64url_encode(private.public_key().public_bytes_raw())
        blinded, state = prepare_and_blind(public, credential_message(credential, election_hash))
        body = msgspec.json.encode(
            {"blinded_message": b64url_encode(bytes(blinded)), "access_code": code}
        )
        path = f"/api/v1/elections/{manifest.id}/credentials"
        pending.append(Pending(private, credential, state, Request(path, body)))
    return pending


def make_ballots(
    manifest: Manifest,
    voters: Sequence[tuple[Ed25519PrivateKey, dict[str, str]]],
    count: int,
    counters: dict[int, int] | None = None,
) -> list[Request]:
    """``count`` ballots, voter after voter. Each voter's ballots are numbered on from
    ``counters`` (voter index → ballots made so far), which this updates, so that ballots
    made by several calls are each their credential's next one (docs/protocol.md §7.6)."""
    ids = [p for p, _ in PROJECTS]
    counters = {} if counters is None else counters
    requests = []
    rng = random.Random(count)
    for n in range(count):
        private, token = voters[n % len(voters)]
        if manifest.id == SURVEY_ID:
            choices: dict[str, Any] = {"answers": random_answers(rng)}
        else:
            choices = {"approve": [ids[n % len(ids)], ids[(n + 1) % len(ids)]]}
        number = counters[n % len(voters)] = counters.get(n % len(voters), 0) + 1
        ballot, signature = make_ballot(
            manifest, private, token, choices, os.urandom, counter=number
        )
        body = msgspec.json.encode({"ballot": ballot_json(ballot), "signature": signature})
        requests.append(Request(f"/api/v1/elections/{manifest.id}/ballots", body))
    return requests


# --- sending ------------------------------------------------------------------------------
@dataclass
class Load:
    concurrency: int
    requests: int
    failures: int
    elapsed_ns: int
    latencies_ns: list[int]
    server_cpu_ms: int
    client_cpu_ms: int
    answers: list[bytes]
    commits: int = 0

    @property
    def per_second(self) -> int:
        return (self.requests - self.failures) * 1_000_000_000 // max(self.elapsed_ns, 1)

    def percentile_us(self, percent: int) -> int:
        ordered = sorted(self.latencies_ns)
        if not ordered:
            return 0
        return ordered[min(len(ordered) - 1, len(ordered) * percent // 100)] // 1000


class KeepAlive:
    """One keep-alive HTTP/1.1 connection of the load generator.

    The standard library's client: the generator shares the two cores with the server,
    and httpx cost it about 0.5 ms of CPU per request, ``http.client`` a fifth of that.
    A request that fails on the wire counts as status 0 and the next one reconnects."""

    def __init__(self, url: str, timeout: int = 120) -> None:
        parts = urlsplit(url)
        self._conn = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=timeout
        )

    def __enter__(self) -> KeepAlive:
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.close()

    def get(self, path: str) -> int:
        return self._send("GET", path, None)[0]

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        return self._send("POST", path, body)

    def _send(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        headers = {"content-type": "application/json"} if body is not None else {}
        try:
            self._conn.request(method, path, body=body, headers=headers)
            response = self._conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self._conn.close()
            return 0, b""


def send(
    url: str,
    requests: Sequence[Request],
    concurrency: int,
    expected: int,
    server_pid: int,
    commits: Callable[[], int] = lambda: 0,
) -> Load:
    """POST every request from ``concurrency`` threads, each with its own connection."""
    answers: list[bytes] = [b""] * len(requests)
    latencies: list[int] = [0] * len(requests)
    failures = [0]
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    ready = threading.Barrier(concurrency + 1)

    def worker() -> None:
        with KeepAlive(url) as conn:
            conn.get("/health")  # open the connection before the clock starts
            ready.wait()
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return
                request = requests[index]
                started = time.perf_counter_ns()
                status, answers[index] = conn.post(request.path, request.body)
                latencies[index] = time.perf_counter_ns() - started
                if status != expected:
                    with lock:
                        failures[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    ready.wait()
    commits_before = commits()
    server_before, client_before = cpu_ms(server_pid), own_cpu_ms()
    started = time.perf_counter_ns()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter_ns() - started
    server_after, client_after = cpu_ms(server_pid), own_cpu_ms()
    return Load(
        concurrency=concurrency,
        requests=len(requests),
        failures=failures[0],
        elapsed_ns=elapsed,
        latencies_ns=latencies,
        server_cpu_ms=server_after - server_before,
        client_cpu_ms=client_after - client_before,
        answers=answers,
        commits=commits() - commits_before,
    )


# --- one engine and server size ------------------------------------------------------------
@dataclass
class Run:
    engine: str
    workers: int
    kind: str
    credentials: Load
    ballots: list[Load]
    ed25519_per_second: int
    blind_sign_per_second: int


def bench_one(
    tmp: Path,
    engine: str,
    database_url: str,
    workers: int,
    *,
    voters: int,
    ballots: int,
    levels: Sequence[int],
    credential_concurrency: int,
    key_bits: int,
    say: Callable[[str], None],
    kind: str = "approval",
) -> Run:
    from kernel.settings import Settings
    from veche.setup import NewUser, create_user, initialize

    data_dir = tmp / f"{engine}-{workers}-{kind}"
    settings = Settings(data_dir=data_dir, database_url=database_url)
    db_engine = initialize(settings)
    create_user(settings, db_engine, NewUser(ADMIN_EMAIL, ADMIN_PASSWORD, "Bench", "admin"))

    def commits() -> int:
        # One signed checkpoint per committed batch of the log's sequencer(s).
        with db_engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(LogCheckpoint)).scalar_one())

    log = tmp / f"{engine}-{workers}-{kind}.log"
    with serve(data_dir, database_url, workers, log) as server:
        say(f"{engine}, {workers} server process(es): opening the {kind} election")
        manifest, election_hash, codes = prepare_election(server.url, voters, key_bits, kind)
        say(f"  preparing {voters} blinded credential requests")
        pending = prepare_requests(manifest, election_hash, codes)
        say(f"  sending them, {credential_concurrency} at a time")
        issued = send(
            server.url,
            [p.request for p in pending],
            credential_concurrency,
            200,
            server.process.pid,
            commits,
        )
        public = load_credential_key(manifest)
        holders: list[tuple[Ed25519PrivateKey, dict[str, str]]] = []
        for p, answer in zip(pending, issued.answers, strict=True):
            if not answer:
                continue
            try:
                blind_signature = b64url_decode(msgspec.json.decode(answer)["blind_signature"])
            except (msgspec.DecodeError, KeyError, TypeError):
                continue
            token = finalize(public, p.state, blind_signature)
            holders.append(
                (p.private, {"prefix": token["prefix"], "signature": token["signature"]})
            )
        if not holders:
            raise RuntimeError("no credential was issued; see the server's log")
        loads = []
        counters: dict[int, int] = {}  # each credential's ballots so far, across levels
        for level in levels:
            count = ballots if level > 1 else max(100, ballots // 10)
            say(f"  preparing {count} signed, sealed ballots; sending them {level} at a time")
            requests = make_ballots(manifest, holders, count, counters)
            loads.append(send(server.url, requests, level, 201, server.process.pid, commits))
    db_engine.dispose()
    ed25519 = crypto_bench.ed25519_verify_speed()
    signing = crypto_bench.blind_sign_speed(generate_private_key(key_bits), accelerate=True)
    return Run(engine, workers, kind, issued, loads, ed25519.per_second, signing.per_second)


# --- the report -----------------------------------------------------------------------------
def _ms(us: int) -> str:
    """Microseconds as milliseconds with one decimal, in integer arithmetic."""
    tenths = (us + 50) // 100
    return f"{tenths // 10}.{tenths % 10}"


def _cpu(load: Load) -> str:
    done = max(load.requests - load.failures, 1)
    tenths = done * 10 // max(load.commits, 1)
    return (
        f"{load.server_cpu_ms * 1000 // done:>6} {load.client_cpu_ms * 1000 // done:>6} "
        f"{tenths // 10:>4}.{tenths % 10}"
    )


def report(runs: Sequence[Run], print_line: Callable[[str], None]) -> None:
    print_line("")
    print_line("Ballots cast over HTTP (prepared beforehand; each a separate POST):")
    print_line(
        f"  {'engine':<11} {'ballot':<9} {'procs':>5} {'voters':>6} {'ballots':>7} {'fail':>4} "
        f"{'per s':>7} {'p50 ms':>7} {'p99 ms':>7} {'srv us':>6} {'gen us':>6} "
        f"{'/commit':>6} {'Ed25519 verify/s':>17}"
    )
    for run in runs:
        for load in run.ballots:
            print_line(
                f"  {run.engine:<11} {run.kind:<9} {run.workers:>5} {load.concurrency:>6} "
                f"{load.requests:>7} {load.failures:>4} {load.per_second:>7,} "
                f"{_ms(load.percentile_us(50)):>7} {_ms(load.percentile_us(99)):>7} "
                f"{_cpu(load)} {run.ed25519_per_second:>17,}"
            )
    print_line("")
    print_line("Credentials issued over HTTP (blind signature, record, log entry):")
    print_line(
        f"  {'engine':<11} {'ballot':<9} {'procs':>5} {'voters':>6} {'issued':>7} {'fail':>4} "
        f"{'per s':>7} {'p50 ms':>7} {'p99 ms':>7} {'srv us':>6} {'gen us':>6} {'/commit':>6} "
        f"{'blind sign/s':>12}"
    )
    for run in runs:
        load = run.credentials
        print_line(
            f"  {run.engine:<11} {run.kind:<9} {run.workers:>5} {load.concurrency:>6} "
            f"{load.requests:>7} {load.failures:>4} {load.per_second:>7,} "
            f"{_ms(load.percentile_us(50)):>7} {_ms(load.percentile_us(99)):>7} "
            f"{_cpu(load)} {run.blind_sign_per_second:>12,}"
        )
    print_line("")
    print_line(
        "voters: concurrent clients; srv us / gen us: CPU microseconds per request used by "
        "the server processes / by this load generator (from /proc); /commit: requests per "
        "committed log batch (one signed checkpoint each); Ed25519 verify/s and blind sign/s: "
        "one core's raw rate of that operation alone (RFC 8032 verification; RFC 9474 "
        "blind signature with the election's key size), measured right after the load."
    )


def run_cast_bench(args: argparse.Namespace) -> int:
    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    print("veche bench cast — figures from this machine, this run")
    print(
        f"  {os.cpu_count()} CPUs, load generator included; "
        f"{args.key_bits}-bit election key; Python {sys.version.split()[0]}"
    )
    levels = [int(x) for x in args.concurrency.split(",")]
    workers = [int(x) for x in args.workers.split(",")]
    runs: list[Run] = []
    cluster = None
    try:
        with tempfile.TemporaryDirectory(prefix="veche-bench-cast-") as name:
            tmp = Path(name)
            engines = [("SQLite", "")]
            if not args.skip_postgres:
                from veche.pgtemp import TempCluster

                cluster = TempCluster.start(durable=True)
                engines.append(("PostgreSQL", ""))
            kinds = ["approval", "survey"] if args.survey else ["approval"]
            for engine, _ in engines:
                for count, kind in ((c, k) for c in workers for k in kinds):
                    url = cluster.create_database() if cluster and engine != "SQLite" else ""
                    runs.append(
                        bench_one(
                            tmp,
                            engine,
                            url,
                            count,
                            voters=args.voters,
                            ballots=args.ballots,
                            levels=levels,
                            credential_concurrency=args.credential_concurrency,
                            key_bits=args.key_bits,
                            say=say,
                            kind=kind,
                        )
                    )
        report(runs, print)
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


def add_cast_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``veche bench cast``."""
    parser = bench_subparsers.add_parser(
        "cast",
        help="credentials and ballots per second through a real server, SQLite and PostgreSQL",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--voters", type=int, default=2000, help="credentials issued (default 2,000)"
    )
    parser.add_argument(
        "--ballots",
        type=int,
        default=4000,
        help="ballots per concurrency level above 1 (default 4,000; at 1: a tenth, at least 100)",
    )
    parser.add_argument(
        "--concurrency", default="1,16,64", help="concurrent voters (default 1,16,64)"
    )
    parser.add_argument(
        "--credential-concurrency",
        type=int,
        default=16,
        help="concurrent credential requests (default 16)",
    )
    parser.add_argument("--workers", default="1,2", help="server processes to try (default 1,2)")
    parser.add_argument(
        "--key-bits", type=int, default=2048, help="election key size (default 2048)"
    )
    parser.add_argument("--skip-postgres", action="store_true", help="measure SQLite only")
    parser.add_argument(
        "--survey",
        action="store_true",
        help="also cast the ballots of an 8-question survey, beside the approval ballots",
    )
    parser.set_defaults(func=run_cast_bench)
