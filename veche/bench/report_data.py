"""Synthetic report data for ``veche bench reports``: a year of reports written straight
into the tables of a SQLite database (with the aggregates of docs/protocol.md §16.10),
and a chained, signed exported log of report entries (§16.4) for ``veche verify``.

The distributions follow the feedback platform's shape: more reports on weekdays and in
the warm months, potholes and dumping the commonest categories, points clustered around
a few hot spots per district, most answers within ten days (twelve on average) and a
tail past the thirty-day deadline, one answer in sixteen reopened by a low rating.
"""

from __future__ import annotations

import hashlib
import math
import random
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert

from audit.core.canonical import canonical_bytes
from audit.core.checkpoint import Checkpoint, sign_checkpoint
from audit.core.entry import GENESIS_KIND, ZERO_HASH, build_entry, leaf_hash
from audit.core.export import KeyInfo
from audit.core.merkle import mth
from reports.core.analytics import COUNTERS, DAY, Facts, LocalDays, month_of
from reports.core.categories import tree_from_config
from reports.core.location import GRID_E6
from reports.services.aggregates import CELL_KEY, CELLS, DAILY, DAILY_KEY
from veche.demo_reports import AREAS, EXAMPLE
from veche.kinds import entry_kinds

__all__ = ["CATEGORY_WEIGHTS", "DISTRICT_WEIGHTS", "fill_reports", "report_log"]

CATEGORY_WEIGHTS = {
    "potholes": 25,
    "illegal-dumping": 20,
    "vandalism": 12,
    "roads": 8,
    "waste": 8,
    "open-attic": 8,
    "improvement": 7,
    "housing": 5,
    "school-meals": 4,
    "education": 3,
}
DISTRICT_WEIGHTS = {"centre": 35, "riverside": 25, "north": 40}
RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (8, 10, 12, 25, 45)
COLUMNS = [
    "id",
    "reporter_id",
    "category",
    "district",
    "organisation",
    "description",
    "lat_e6",
    "lon_e6",
    "public",
    "status",
    "deadline_days",
    "received_at",
    "clock_seconds",
    "clock_at",
    "first_response_at",
    "answered_at",
    "closed_at",
    "rating",
    "reopened",
    "updated_at",
    "first_response_s",
    "first_answer_s",
    "answered_in_time",
    "ratings",
    "rating_sum",
]


@dataclass(frozen=True)
class Drawn:
    """One report's life, drawn from the distributions."""

    category: str
    district: str
    organisation: str
    deadline_days: int
    lat_e6: int
    lon_e6: int
    received_at: int
    first_response_s: int | None
    first_answer_s: int | None
    reopened: bool
    ratings: tuple[int, ...]


class Drawer:
    def __init__(self, now: int, days: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        config = tomllib.loads(EXAMPLE.read_text("utf-8"))
        codes = [o["code"] if isinstance(o, dict) else o for o in config["organisations"]]
        self.tree = tree_from_config(config | {"organisations": codes})
        self.first_day = now // DAY - days + 1
        weights = []
        for offset in range(days):
            day = self.first_day + offset
            weekday = (day + 3) % 7  # 0 = Monday
            season = 1 + 0.35 * math.sin(2 * math.pi * ((day % 365) - 100) / 365)
            weights.append((0.6 if weekday >= 5 else 1.0) * season)
        self.day_weights = weights
        self.spots = {
            d: [(self.rng.uniform(s, n), self.rng.uniform(w, e)) for _ in range(4)]
            for d, (w, s, e, n) in AREAS.items()
        }

    def point(self, district: str) -> tuple[int, int]:
        west, south, east, north = AREAS[district]
        rng = self.rng
        if rng.random() < 0.6:
            lat0, lon0 = rng.choice(self.spots[district])
            lat = min(north, max(south, rng.gauss(lat0, 0.004)))
            lon = min(east, max(west, rng.gauss(lon0, 0.006)))
        else:
            lat, lon = rng.uniform(south, north), rng.uniform(west, east)
        return int(lat * 1_000_000), int(lon * 1_000_000)

    def draw(self, day: int) -> Drawn:
        rng = self.rng
        category = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
        district = rng.choices(list(DISTRICT_WEIGHTS), list(DISTRICT_WEIGHTS.values()))[0]
        routing = self.tree.route(category, district)
        assert routing is not None
        lat, lon = self.point(district)
        received = day * DAY + rng.randrange(7 * 3600, DAY)
        received = min(received, self.now - 60)
        first = answer = None
        reopened = False
        ratings: tuple[int, ...] = ()
        if rng.random() < 0.93:
            first = max(60, int(rng.lognormvariate(math.log(20 * 3600), 1.0)))
            if received + first > self.now:
                first = None
        if first is not None and rng.random() < 0.9:
            answer = max(first, int(rng.gammavariate(2.6, 12 * DAY / 2.6)))
            if received + answer > self.now:
                answer = None
        if answer is not None and rng.random() < 0.78:
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            reopened = rating < 3
            ratings = (rating, rng.choice((3, 4, 5))) if reopened else (rating,)
        return Drawn(
            category,
            district,
            routing.organisation,
            routing.deadline_days,
            lat,
            lon,
            received,
            first,
            answer,
            reopened,
            ratings,
        )

    def days(self, count: int) -> list[int]:
        offsets = self.rng.choices(range(len(self.day_weights)), self.day_weights, k=count)
        return sorted(self.first_day + o for o in offsets)


def _row(report_id: str, reporter: int, d: Drawn) -> tuple[Any, ...]:
    answered_at = None if d.first_answer_s is None else d.received_at + d.first_answer_s
    in_time = None if d.first_answer_s is None else d.first_answer_s <= d.deadline_days * DAY
    if answered_at is not None:
        status = "closed" if d.ratings else "answered"
    elif d.first_response_s is not None:
        status = "in_work"
    else:
        status = "received"
    clock = d.first_answer_s or 0
    return (
        report_id,
        reporter,
        d.category,
        d.district,
        d.organisation,
        "A synthetic report for the benchmark",
        d.lat_e6,
        d.lon_e6,
        True,
        status,
        d.deadline_days,
        d.received_at,
        clock,
        answered_at or d.received_at,
        None if d.first_response_s is None else d.received_at + d.first_response_s,
        answered_at,
        answered_at if d.ratings else None,
        d.ratings[-1] if d.ratings else None,
        1 if d.reopened else 0,
        answered_at or d.received_at,
        d.first_response_s,
        d.first_answer_s,
        in_time,
        len(d.ratings),
        sum(d.ratings),
    )


def fill_reports(
    engine: Engine, count: int, reporter: int, now: int, days: LocalDays, *, seed: int = 17
) -> None:
    """Write ``count`` reports received over the last year into ``report``, and their
    aggregates, as the steps would have kept them by the local days of ``days``, into
    ``report_daily`` and ``report_cell_month``. The report table's indexes are made after
    the rows."""
    drawer = Drawer(now, 365, seed)
    daily: dict[tuple[int, str, str, str], Counter[str]] = {}
    cells: Counter[tuple[int, str, str, str, int, int]] = Counter()
    rows: list[tuple[Any, ...]] = []
    ids = random.Random(seed + 1)
    for day in drawer.days(count):
        d = drawer.draw(day)
        facts = Facts(
            day=days.day(d.received_at),
            category=d.category,
            district=d.district,
            organisation=d.organisation,
            lat_e2=d.lat_e6 // GRID_E6,
            lon_e2=d.lon_e6 // GRID_E6,
            first_response_s=d.first_response_s,
            first_answer_s=d.first_answer_s,
            answered_in_time=None
            if d.first_answer_s is None
            else d.first_answer_s <= d.deadline_days * DAY,
            reopened=d.reopened,
            ratings=len(d.ratings),
            rating_sum=sum(d.ratings),
        )
        daily.setdefault(facts.key(), Counter()).update(facts.counts())
        cells[facts.cell_key()] += 1
        rows.append(_row(f"{ids.getrandbits(128):032x}", reporter, d))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # The engine's connections commit each statement unless a transaction is begun.
        cursor.execute("BEGIN IMMEDIATE")
        indexes = cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'report' "
            "AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        marks = ", ".join("?" for _ in COLUMNS)
        cursor.executemany(f"INSERT INTO report ({', '.join(COLUMNS)}) VALUES ({marks})", rows)
        for _name, sql in indexes:
            cursor.execute(sql)
        cursor.execute("ANALYZE")
        cursor.execute("COMMIT")
    finally:
        raw.close()
    del rows
    with engine.begin() as connection:
        connection.execute(
            insert(DAILY),
            [
                dict(zip(DAILY_KEY, key, strict=True)) | {n: c[n] for n in COUNTERS}
                for key, c in daily.items()
            ],
        )
        connection.execute(
            insert(CELLS),
            [dict(zip(CELL_KEY, key, strict=True)) | {"reports": n} for key, n in cells.items()],
        )
    assert all(month_of(k[0]) == k[0] for k in cells)


# --- a log of report entries -------------------------------------------------------------
ORIGIN = "bench.veche.example/log"
AT = "2026-11-23T10:00:00Z"


def _entries(drawer: Drawer, limit: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, body) of whole report lives, report after report, until ``limit``."""
    made = 0
    ids = random.Random(3)
    while made < limit:
        d = drawer.draw(drawer.days(1)[0])
        rid = f"{ids.getrandbits(128):032x}"
        t = d.received_at
        life: list[tuple[str, dict[str, Any]]] = [
            (
                "report.received",
                {
                    "at": t,
                    "category": d.category,
                    "deadline_days": d.deadline_days,
                    "district": d.district,
                    "first_response_days": None,
                    "lat_e2": d.lat_e6 // GRID_E6,
                    "lon_e2": d.lon_e6 // GRID_E6,
                    "organisation": d.organisation,
                    "report": rid,
                },
            )
        ]
        org = d.organisation
        photo = hashlib.sha256(rid.encode()).hexdigest()
        if d.first_response_s is not None and d.first_answer_s != d.first_response_s:
            life.append(
                ("report.status", _status(rid, "received", "in_work", org, t + d.first_response_s))
            )
        if d.first_answer_s is not None:
            at = t + d.first_answer_s
            life.append(
                (
                    "report.answered",
                    {"at": at, "organisation": org, "photos": [photo], "report": rid},
                )
            )
            for n, rating in enumerate(d.ratings):
                life.append(("report.rated", {"at": at + 3600, "rating": rating, "report": rid}))
                if rating < 3 and n + 1 < len(d.ratings):
                    life.append(
                        ("report.status", _status(rid, "reopened", "in_work", org, at + 7200))
                    )
                    at += 2 * DAY
                    life.append(
                        (
                            "report.answered",
                            {"at": at, "organisation": org, "photos": [photo], "report": rid},
                        )
                    )
        yield from life[: limit - made]
        made += len(life)


def _status(rid: str, a: str, b: str, org: str, at: int) -> dict[str, Any]:
    return {"at": at, "from_status": a, "organisation": org, "report": rid, "to_status": b}


def report_log(n_entries: int, now: int) -> tuple[list[bytes], str, KeyInfo]:
    """A valid exported log of ``n_entries``: the genesis, then report entries (the last
    report's life may be cut short, which replays). Returns the lines, the signed
    checkpoint note and the key's description."""
    kinds = entry_kinds()
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"veche bench key").digest())
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
        kinds,
    )
    lines = [genesis]
    prev = leaf_hash(genesis).hex()
    sha = hashlib.sha256
    drawer = Drawer(now, 365, 29)
    for seq, (kind, body) in enumerate(_entries(drawer, n_entries - 1), start=1):
        entry = {"at": AT, "body": body, "kind": kind, "prev": prev, "seq": seq, "v": 1}
        line = canonical_bytes(entry)
        if seq % 10_000 == 1:  # the shortcut makes what the validating builder makes
            assert line == build_entry(seq, prev, AT, kind, body, kinds)
        lines.append(line)
        prev = sha(b"\x00" + line).hexdigest()
    note = sign_checkpoint(
        key, ORIGIN, Checkpoint(ORIGIN, len(lines), mth([leaf_hash(x) for x in lines]))
    )
    return lines, note, info
