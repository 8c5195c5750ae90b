"""Demo data for resident reports: the example configuration, boundaries of the demo
districts, staff of each organisation and a supervisor, and a month of reports over the
districts — most answered with photo proof and rated, some answered late, some still
open past their deadline, some reopened by a low rating and sent back, some reassigned
— so that the queues, the overdue list and the statistics are alive. Everything goes
through the services at the demo's own clock, so the log records it all."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from litestar.datastructures import State
from sqlalchemy import select

from kernel.accounts.models import User
from reports.core.lifecycle import DAY
from reports.core.schemas import ReportCreate
from reports.services.config import parse_toml
from reports.services.photos import ReportPhotos
from reports.services.service import ReportService
from veche.demo_proposals import tiny_png

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "reports.toml"
HOUR = 3600

# (west, south, east, north) in degrees: the demo districts as rectangles.
AREAS = {
    "centre": (37.60, 55.74, 37.64, 55.76),
    "riverside": (37.60, 55.72, 37.66, 55.74),
    "north": (37.58, 55.76, 37.66, 55.80),
}
STAFF = {
    "roads@demo.veche": "roads-dept",
    "roads-north@demo.veche": "roads-north",
    "waste@demo.veche": "waste-co",
    "housing@demo.veche": "housing-mc",
    "improvement@demo.veche": "improvement",
    "education@demo.veche": "education",
}
SUPERVISOR = "supervisor@demo.veche"
REPORTERS = ("anna@demo.veche", "boris@demo.veche")
PROBLEMS = {
    "potholes": ["A deep pothole at the crossing", "Broken asphalt by the bus stop"],
    "illegal-dumping": ["Building rubbish dumped behind the garages", "Old furniture by the bins"],
    "vandalism": ["Graffiti on the library's facade", "A smashed bus-shelter panel"],
    "open-attic": ["The attic door is open and children climb in", "Basement door broken"],
    "school-meals": ["Cold lunches in school No. 5", "No vegetarian meal offered"],
}


def boundary(area: tuple[float, float, float, float]) -> str:
    west, south, east, north = area
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@contextmanager
def at(service: ReportService, moment: int) -> Iterator[None]:
    """Run the service at the demo's clock."""
    real = service.clock
    service.clock = lambda: float(moment)
    try:
        yield
    finally:
        service.clock = real


def load_reports_demo(state: State, *, days: int = 30, per_day: int = 5, seed: int = 2026) -> int:
    """Fill the reports; how many were received."""
    service: ReportService = state.reports
    photos: ReportPhotos = state.report_photos
    rng = random.Random(seed)
    with state.sessions() as db, db.begin():
        service.config.replace(db, parse_toml(EXAMPLE.read_text("utf-8")))
        for district, area in AREAS.items():
            service.config.set_boundary(db, district, boundary(area))
        users = {u.email: u for u in db.scalars(select(User)).all()}
        for email, organisation in STAFF.items():
            service.config.set_staff(db, users[email].id, organisation)  # type: ignore[arg-type]
        db.expunge_all()
    staff_of = {organisation: users[email] for email, organisation in STAFF.items()}
    now = int(time.time())
    start = now - days * DAY
    received = 0
    # A month of past steps is not news: no status e-mail for the demo's own history.
    notify, service.on_status = service.on_status, None
    try:
        received = _month(state, service, photos, rng, users, staff_of, start, now, days, per_day)
    finally:
        service.on_status = notify
    return received


def _month(
    state: State,
    service: ReportService,
    photos: ReportPhotos,
    rng: random.Random,
    users: dict[str, User],
    staff_of: dict[str, User],
    start: int,
    now: int,
    days: int,
    per_day: int,
) -> int:
    supervisor = users[SUPERVISOR]
    received = 0
    for day in range(days):
        for _ in range(rng.randint(per_day - 2, per_day + 2)):
            category = rng.choice(sorted(PROBLEMS))
            district = rng.choice(sorted(AREAS))
            west, south, east, north = AREAS[district]
            body = ReportCreate(
                category=category,
                description=rng.choice(PROBLEMS[category]),
                lat_e6=rng.randint(int(south * 1e6) + 1000, int(north * 1e6) - 1000),
                lon_e6=rng.randint(int(west * 1e6) + 1000, int(east * 1e6) - 1000),
                public=rng.random() < 0.9,
            )
            moment = start + day * DAY + rng.randint(7 * HOUR, 21 * HOUR)
            reporter = users[rng.choice(REPORTERS)]
            with at(service, moment):
                report_id = service.create(reporter, body)
            received += 1
            _play(
                state, service, photos, rng, report_id, moment, now, staff_of, reporter, supervisor
            )
    return received


def _play(
    state: State,
    service: ReportService,
    photos: ReportPhotos,
    rng: random.Random,
    report_id: str,
    moment: int,
    now: int,
    staff_of: dict[str, User],
    reporter: User,
    supervisor: User,
) -> None:
    """One report's life, drawn at random, never past ``now``."""
    with state.read_sessions() as db:
        organisation = service.get(db, report_id, supervisor).organisation
    staff = staff_of[organisation]
    fate = rng.random()

    def step(after_hours: int) -> int | None:
        nonlocal moment
        moment += after_hours * HOUR
        return moment if moment < now else None

    if fate < 0.1:
        return  # still received (overdue when old enough)
    if rng.random() < 0.1 and organisation == "roads-dept":
        if (t := step(rng.randint(2, 30))) is None:
            return
        with at(service, t):
            service.reassign(staff, report_id, "roads-north")
        staff = staff_of["roads-north"]
    if (t := step(rng.randint(2, 60))) is None:
        return
    with at(service, t):
        service.take(staff, report_id)
    if fate < 0.2:
        return  # in work, perhaps past its deadline
    late = fate > 0.92
    hours = rng.randint(31 * 24, 40 * 24) if late else rng.randint(12, 11 * 24)
    if not _answer(state, service, photos, rng, staff, report_id, step(hours)):
        return
    if rng.random() < 0.25 or (t := step(rng.randint(2, 72))) is None:
        return  # not rated (closes on its own later)
    rating = rng.choices([1, 2, 3, 4, 5], weights=[1, 2, 2, 4, 5])[0]
    with at(service, t):
        service.rate(reporter, report_id, rating, "" if rating >= 3 else "Not fixed properly")
    if rating >= 3 or rng.random() < 0.4 or (t := step(rng.randint(4, 48))) is None:
        return  # reopened, waiting for the supervisor
    with at(service, t):
        service.send_back(supervisor, report_id)
    _answer(state, service, photos, rng, staff, report_id, step(rng.randint(24, 5 * 24)))


def _answer(
    state: State,
    service: ReportService,
    photos: ReportPhotos,
    rng: random.Random,
    staff: User,
    report_id: str,
    moment: int | None,
) -> bool:
    if moment is None:
        return False
    with at(service, moment):
        with state.sessions() as db, db.begin():
            photos.add(db, staff, report_id, tiny_png(rng.randint(40, 400), rng.randint(30, 300)))
        service.answer(staff, report_id, "Done: see the photo of the work.")
    return True
