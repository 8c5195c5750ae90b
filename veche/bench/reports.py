"""``veche bench reports``: resident reports, end to end, each figure beside a baseline
measured in the same run.

1. Reports submitted per second over HTTP with a photo, on SQLite: a ``veche serve``
   process with the example configuration and district boundaries; each report is the
   API's two requests (the report, routed by its point, with its ``report.received``
   entry; then a 1.5 MB JPEG photo). Beside it: a plain ``GET`` of one report at the
   same concurrency.
2. The analytics page over a year of synthetic reports (default 1,000,000) written
   straight into the tables with their aggregates (``veche.bench.report_data``): the
   page and a CSV as a supervisor gets them over HTTP, without and with filters.
   Beside it: the account page of the same supervisor, and the unfiltered summary
   computed from the raw rows in the same process without the aggregates.
3. ``veche verify`` over an exported log of report entries (default 1,000,000): the
   whole command as a user runs it, beside ``veche verify`` over a log of as many
   notices (the log's own checks alone), and the reports' recomputation by itself.
"""

from __future__ import annotations

import argparse
import os
import statistics as stats
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from kernel.accounts.models import User
from kernel.settings import Settings
from reports.core.analytics import LocalDays, day_date, month_of, next_month
from veche.bench.cast import serve
from veche.bench.report_data import report_log
from veche.demo_reports import AREAS, EXAMPLE, boundary

__all__ = ["add_reports_bench", "run_reports_bench"]

PASSWORD = "bench-meadow-lantern-42"
PEOPLE = {
    "bench-admin@example.org": "admin",
    "bench-supervisor@example.org": "supervisor",
    "bench-resident@example.org": "resident",
}


def _photo(size: int = 1_500_000) -> bytes:
    """A JPEG of a phone's size: its header (1600 × 1200), then filler bytes."""
    import struct

    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1200, 1600, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + os.urandom(size) + b"\xff\xd9"


def _setup(data_dir: Path) -> Any:
    from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user, initialize

    settings = Settings(data_dir=data_dir)
    engine = initialize(settings)
    add_districts(settings, engine, DEMO_DISTRICTS)
    for email, role in PEOPLE.items():
        create_user(settings, engine, NewUser(email, PASSWORD, "Bench", role, "centre", True))
    return engine


def _client(url: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    if login.status_code != 200:
        raise RuntimeError(f"log-in: HTTP {login.status_code} {login.text[:200]}")
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client


def _configure(url: str) -> None:
    admin = _client(url, "bench-admin@example.org")
    try:
        config = tomllib.loads(EXAMPLE.read_text("utf-8"))
        done = admin.put("/api/v1/reports/config", json=config)
        if done.status_code != 200:
            raise RuntimeError(f"configuration: HTTP {done.status_code} {done.text[:200]}")
        for district, area in AREAS.items():
            path = f"/api/v1/reports/districts/{district}/boundary"
            if admin.put(path, json={"geojson": boundary(area)}).status_code != 200:
                raise RuntimeError(f"boundary of {district} refused")
    finally:
        admin.close()


def _timed(
    clients: list[httpx.Client], count: int, one: Callable[[httpx.Client, int], bool]
) -> dict[str, Any]:
    """``count`` calls of ``one`` spread over the clients' threads; rate and latencies."""
    latencies: list[int] = []
    failures = [0]
    lock = threading.Lock()
    per = max(1, count // len(clients))

    def worker(client: httpx.Client, start: int) -> None:
        mine, bad = [], 0
        for i in range(start, start + per):
            began = time.perf_counter_ns()
            ok = one(client, i)
            mine.append(time.perf_counter_ns() - began)
            bad += 0 if ok else 1
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=worker, args=(c, n * per)) for n, c in enumerate(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    latencies.sort()
    return {
        "count": len(latencies),
        "failures": failures[0],
        "per_second": len(latencies) / seconds,
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] / 1e6,
    }


def bench_submissions(
    tmp: Path, count: int, levels: list[int]
) -> list[tuple[str, int, dict[str, Any]]]:
    engine = _setup(tmp / "submit")
    engine.dispose()
    photo = _photo()
    west, south, east, north = AREAS["centre"]
    rows: list[tuple[str, int, dict[str, Any]]] = []
    with serve(tmp / "submit", "", 1, tmp / "submit.log") as server:
        _configure(server.url)
        made: list[str] = []

        def submit(client: httpx.Client, i: int) -> bool:
            lat = int((south + (north - south) * ((i * 37) % 100) / 100) * 1_000_000)
            lon = int((west + (east - west) * ((i * 61) % 100) / 100) * 1_000_000)
            body = {
                "category": "potholes" if i % 2 else "illegal-dumping",
                "description": f"Report {i}: a deep pothole by the bus stop",
                "lat_e6": lat,
                "lon_e6": lon,
            }
            created = client.post("/api/v1/reports/", json=body)
            if created.status_code != 201:
                return False
            rid = created.json()["id"]
            made.append(rid)
            sent = client.post(
                f"/api/v1/reports/{rid}/photos", files={"file": ("photo.jpg", photo, "image/jpeg")}
            )
            return sent.status_code == 201

        def read(client: httpx.Client, i: int) -> bool:
            return client.get(f"/api/v1/reports/{made[i % len(made)]}").status_code == 200

        for level in levels:
            clients = [_client(server.url, "bench-resident@example.org") for _ in range(level)]
            try:
                rows.append(("reports with a photo", level, _timed(clients, count, submit)))
                rows.append(("GET one report", level, _timed(clients, count, read)))
            finally:
                for client in clients:
                    client.close()
    return rows


def _views(now: int, days: LocalDays) -> list[tuple[str, str]]:
    """The pages timed: no filter, and the filters a management centre uses (local
    dates)."""
    today = days.day(now)
    last_month = month_of(month_of(today) - 1)
    month_end = day_date(next_month(last_month) - 1)
    # Part of the month before last, all of last month, this month so far: the map
    # counts the whole month from its table and the edges from the rows.
    edge_start = day_date(month_of(last_month - 1) + 10)
    edge_end = day_date(today)
    page = "/office/reports/analytics"
    return [
        ("no filter (by week)", page),
        ("no filter, by day", f"{page}?by=day"),
        ("one category with its children", f"{page}?category=roads"),
        ("one district and organisation", f"{page}?district=north&organisation=roads-north"),
        (
            "one calendar month, by day",
            f"{page}?from={day_date(last_month)}&to={month_end}&by=day",
        ),
        ("from mid-month to today, by day", f"{page}?from={edge_start}&to={edge_end}&by=day"),
        ("CSV of the map's cells, no filter", f"{page}/csv/cells"),
    ]


def bench_analytics(
    tmp: Path, count: int, repeats: int, say: Callable[[str], None]
) -> dict[str, Any]:
    from reports.services.config import ReportConfig, parse_toml
    from veche.bench.report_data import fill_reports

    engine = _setup(tmp / "analytics")
    from sqlalchemy.orm import Session

    with Session(engine) as db, db.begin():
        ReportConfig().replace(db, parse_toml(EXAMPLE.read_text("utf-8")))
        reporter = db.scalar(
            select(User.id).where(User.email == "bench-resident@example.org")  # type: ignore[call-overload]
        )
    now = int(time.time())
    say(f"  writing {count:,} reports and their aggregates…")
    began = time.perf_counter()
    days = LocalDays(Settings(data_dir=tmp / "analytics").time_zone)
    fill_reports(engine, count, int(reporter or 0), now, days)
    filled = time.perf_counter() - began
    raw = _raw_summary(engine)
    engine.dispose()
    results: list[tuple[str, list[float], int]] = []
    with serve(tmp / "analytics", "", 1, tmp / "analytics.log") as server:
        client = _client(server.url, "bench-supervisor@example.org")
        try:
            for label, path in [("baseline: the account page", "/account"), *_views(now, days)]:
                times, size = [], 0
                for _ in range(repeats):
                    began = time.perf_counter()
                    response = client.get(path)
                    times.append(time.perf_counter() - began)
                    if response.status_code != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status_code}")
                    size = len(response.content)
                results.append((label, times, size))
        finally:
            client.close()
    return {"filled_seconds": filled, "pages": results, "raw": raw}


def _raw_summary(engine: Any) -> dict[str, Any]:
    """The unfiltered summary straight from the report rows, no aggregates: counts by SQL,
    the four percentiles by sorting the durations."""
    began = time.perf_counter()
    with engine.connect() as connection:
        counts = connection.exec_driver_sql(
            "SELECT COUNT(*), COUNT(first_answer_s), SUM(answered_in_time), "
            "SUM(ratings), SUM(rating_sum), SUM(reopened > 0 AND first_answer_s IS NOT NULL) "
            "FROM report"
        ).one()
        for column in ("first_response_s", "first_answer_s"):
            values = sorted(
                v
                for (v,) in connection.exec_driver_sql(
                    f"SELECT {column} FROM report WHERE {column} IS NOT NULL"
                )
            )
            for percent in (50, 90):
                _ = values[max(1, -(-percent * len(values) // 100)) - 1] if values else None
    return {"seconds": time.perf_counter() - began, "reports": counts[0]}


def _verify(directory: Path, key: str) -> tuple[float, int, str]:
    env = {**os.environ}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "veche.cli", "verify", str(directory), "--key", key, "--no-state"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return time.perf_counter() - began, done.returncode, done.stdout


def bench_verify_reports(tmp: Path, entries: int, say: Callable[[str], None]) -> dict[str, Any]:
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.core.checkpoint import Checkpoint, sign_checkpoint
    from audit.core.entry import leaf_hash
    from audit.core.export import KeyInfo, write_export
    from audit.core.merkle import mth
    from reports.core.verify import verify_reports
    from veche.bench.logs import ORIGIN, synthetic_entries

    say(f"  making a log of {entries:,} report entries…")
    lines, note, info = report_log(entries, int(time.time()))
    write_export(tmp / "report-log", lines, note, info)
    began = time.perf_counter()
    ok, summary, _doc = verify_reports(lines)
    alone = time.perf_counter() - began
    del lines
    say(f"  making a log of {entries:,} notices…")
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"veche bench key").digest())
    notices = synthetic_entries(entries, key)
    checkpoint = Checkpoint(ORIGIN, entries, mth([leaf_hash(x) for x in notices]))
    write_export(
        tmp / "notice-log",
        notices,
        sign_checkpoint(key, ORIGIN, checkpoint),
        KeyInfo.from_private_key(ORIGIN, key),
    )
    del notices
    say("  running veche verify on both…")
    report_seconds, report_code, report_out = _verify(tmp / "report-log", info.verifier_key)
    notice_seconds, notice_code, _out = _verify(tmp / "notice-log", info.verifier_key)
    return {
        "entries": entries,
        "alone_seconds": alone,
        "alone_ok": ok,
        "summary": summary,
        "report_seconds": report_seconds,
        "report_ok": report_code == 0 and "REPORTS: OK" in report_out,
        "notice_seconds": notice_seconds,
        "notice_ok": notice_code == 0,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def run_reports_bench(args: argparse.Namespace) -> int:
    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    print("veche bench reports — figures from this machine, this run")
    print(f"  {os.cpu_count()} CPUs, load generator included; Python {sys.version.split()[0]}")
    levels = [int(x) for x in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory(prefix="veche-bench-reports-") as name:
        tmp = Path(name)
        parts = set(args.parts.split(","))
        if "submit" in parts:
            _print_submissions(bench_submissions(tmp, args.submissions, levels))
        if "analytics" in parts:
            _print_analytics(bench_analytics(tmp, args.reports, args.repeats, say), args)
        if "verify" in parts:
            say("veche verify…")
            _print_verify(bench_verify_reports(tmp, args.entries, say))
    return 0


def _print_submissions(rows: list[tuple[str, int, dict[str, Any]]]) -> None:
    print("\nReports submitted over HTTP with a 1.5 MB photo, SQLite, one server process:")
    print(
        f"  {'what':<22} {'conc':>5} {'count':>6} {'fail':>5} "
        f"{'per s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for what, level, r in rows:
        print(
            f"  {what:<22} {level:>5} {r['count']:>6} {r['failures']:>5} "
            f"{r['per_second']:>8,.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
        )


def _print_analytics(figures: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\nThe analytics page over {args.reports:,} reports of a year "
        f"(written with their aggregates in {figures['filled_seconds']:.1f} s), "
        f"as a supervisor over HTTP, {args.repeats} times each:"
    )
    print(f"  {'view':<36} {'min ms':>8} {'median':>8} {'max ms':>8} {'bytes':>9}")
    for label, times, size in figures["pages"]:
        print(
            f"  {label:<36} {_ms(min(times)):>8} {_ms(stats.median(times)):>8} "
            f"{_ms(max(times)):>8} {size:>9,}"
        )
    slowest = max(max(t) for label, t, _s in figures["pages"] if not label.startswith("baseline"))
    print(f"  slowest analytics request: {_ms(slowest)} ms (target: under 1,000 ms)")
    print(
        f"  without the aggregates, the unfiltered summary alone from the raw rows "
        f"(in process): {_ms(figures['raw']['seconds'])} ms"
    )


def _print_verify(v: dict[str, Any]) -> None:
    print(f"\nveche verify over an exported log of {v['entries']:,} entries (whole command):")
    print(
        f"  report entries: {v['report_seconds']:.1f} s = "
        f"{v['entries'] / v['report_seconds']:,.0f} entries/s, "
        f"{'OK' if v['report_ok'] else 'FAILED'}"
    )
    print(
        f"  baseline, as many notices (the log's checks alone): {v['notice_seconds']:.1f} s = "
        f"{v['entries'] / v['notice_seconds']:,.0f} entries/s, "
        f"{'OK' if v['notice_ok'] else 'FAILED'}"
    )
    print(
        f"  the reports' recomputation by itself: {v['alone_seconds']:.1f} s = "
        f"{v['entries'] / v['alone_seconds']:,.0f} entries/s, "
        f"{'OK' if v['alone_ok'] else 'FAILED'}"
    )
    for line in v["summary"][:1]:
        print(f"  {line}")


def add_reports_bench(bench_subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register ``veche bench reports``."""
    parser = bench_subparsers.add_parser(
        "reports",
        help="report submissions over HTTP, the analytics page over 1,000,000 reports, "
        "veche verify over 1,000,000 report entries",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--submissions", type=int, default=400, help="reports per concurrency level (default 400)"
    )
    parser.add_argument("--concurrency", default="1,4", help="concurrent residents (default 1,4)")
    parser.add_argument(
        "--reports",
        type=int,
        default=1_000_000,
        help="reports for the analytics (default 1,000,000)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="requests per view (default 5)")
    parser.add_argument(
        "--entries",
        type=int,
        default=1_000_000,
        help="report entries in the log for veche verify (default 1,000,000)",
    )
    parser.add_argument(
        "--parts",
        default="submit,analytics,verify",
        help="which parts to run, comma-separated (default submit,analytics,verify)",
    )
    parser.set_defaults(func=run_reports_bench)
