"""Bringing a data directory to life: schema, keys, first accounts, demo data."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from audit.services.store import LogStore
from kernel import db as database
from kernel.accounts.schemas import ROLES, DistrictIn, Registration
from kernel.accounts.service import AccountService
from kernel.errors import DomainError
from kernel.keys import load_or_create_authority_key, load_or_create_secret
from kernel.settings import Settings
from reports.services.aggregates import ensure_zone
from veche import schema
from veche.kinds import entry_kinds

DEMO_MARKER = ".veche-demo"


@dataclass(frozen=True)
class NewUser:
    email: str
    password: str
    display_name: str
    role: str = "resident"
    district: str | None = None
    # The operator vouches for the address (the demo, the test suite): it is marked
    # confirmed without a link.
    confirmed: bool = False


def initialize(settings: Settings, engine: Engine | None = None) -> Engine:
    """Create or upgrade the schema and make the keys that do not exist yet."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or database.make_engine(settings)
    schema.migrate(engine, settings.time_zone)
    _count_reports_in(engine, settings.time_zone)
    key, _created = load_or_create_authority_key(settings.keys_dir)
    load_or_create_secret(settings.keys_dir, "commitment.key")
    load_or_create_secret(settings.keys_dir, "election-secrets.key")
    LogStore(engine, key, settings.origin, entry_kinds()).ensure_genesis()
    return engine


def _count_reports_in(engine: Engine, time_zone: str) -> None:
    """The reports' analytics count local days of the setting ``time_zone``: recount them
    when the setting changed since they were counted (docs/protocol.md §16.10)."""
    with Session(engine) as db, db.begin():
        if engine.dialect.name == "postgresql":
            # Servers starting at once: one recounts, the others then find the zone kept
            # (the migrations' lock, veche/migrations/env.py).
            db.execute(text("SELECT pg_advisory_xact_lock(74153)"))
        recounted = ensure_zone(db, time_zone)
    if recounted is not None:
        logging.getLogger("veche").info(
            "Report analytics recounted in the time zone %s (%d reports).", time_zone, recounted
        )


def create_user(settings: Settings, engine: Engine, new: NewUser) -> None:
    """Create an account of any role; raises DomainError with a sentence when refused."""
    if new.role not in ROLES:
        raise DomainError(f"Unknown role {new.role!r}; use one of: {', '.join(ROLES)}.")
    service = AccountService(settings)
    sessions = database.make_sessionmaker(engine)
    with database.session_scope(sessions) as db:
        if new.district is None and new.role != "resident":
            # Staff need no district: register through a placeholder check, then clear it.
            problems = service.validate_registration(
                db, Registration(new.email, new.display_name, "-", new.password)
            )
            problems.pop("district", None)
            if problems:
                raise DomainError(next(iter(problems.values())))
            user = service.register_unchecked(
                db, new.email, new.display_name, None, new.password, new.role
            )
        else:
            user = service.register(
                db,
                Registration(new.email, new.display_name, new.district or "", new.password),
                role=new.role,
            )
        assert user.id is not None
        if new.confirmed:
            service.mark_email_confirmed(db, user)


def add_districts(settings: Settings, engine: Engine, districts: list[DistrictIn]) -> None:
    service = AccountService(settings)
    sessions = database.make_sessionmaker(engine)
    with database.session_scope(sessions) as db:
        existing = {d.code for d in service.list_districts(db)}
        for district in districts:
            if district.code not in existing:
                service.create_district(db, district)


DEMO_DISTRICTS = [
    DistrictIn(code="centre", name="Centre / Центр"),
    DistrictIn(code="riverside", name="Riverside / Заречье"),
    DistrictIn(code="north", name="North / Северный"),
]

DEMO_PASSWORD = "veche-demo-2026"
DEMO_USERS = [
    NewUser("admin@demo.veche", DEMO_PASSWORD, "Demo Admin", "admin", confirmed=True),
    NewUser("moderator@demo.veche", DEMO_PASSWORD, "Demo Moderator", "moderator", confirmed=True),
    NewUser("auditor@demo.veche", DEMO_PASSWORD, "Demo Auditor", "auditor", confirmed=True),
    NewUser("anna@demo.veche", DEMO_PASSWORD, "Anna Petrova", "resident", "centre", True),
    NewUser("boris@demo.veche", DEMO_PASSWORD, "Boris Ivanov", "resident", "riverside", True),
    NewUser(
        "supervisor@demo.veche", DEMO_PASSWORD, "Demo Supervisor", "supervisor", confirmed=True
    ),
    *(
        NewUser(
            f"{name}@demo.veche", DEMO_PASSWORD, f"Demo staff ({name})", "org_staff", None, True
        )
        for name in ("roads", "roads-north", "waste", "housing", "improvement", "education")
    ),
]


def prepare_demo_dir(data_dir: Path) -> None:
    """Empty a previous demo directory; refuse to touch a directory that is not a demo's."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            raise DomainError(
                f"{data_dir} holds data that is not a demo's; choose another directory "
                "with --data-dir or VECHE_DATA_DIR"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DEMO_MARKER).write_text("This directory was made by 'veche demo'.\n")


def load_demo(settings: Settings, engine: Engine) -> list[NewUser]:
    add_districts(settings, engine, DEMO_DISTRICTS)
    for user in DEMO_USERS:
        create_user(settings, engine, user)
    load_proposals_demo(settings, engine)
    return DEMO_USERS


def load_proposals_demo(settings: Settings, engine: Engine) -> None:
    """A budgeting program with proposals in every state (``proposals.demo``), and a
    month of residents' reports (``veche.demo_reports``)."""
    from veche.app import create_app
    from veche.demo_proposals import load_proposals_demo as fill
    from veche.demo_reports import load_reports_demo

    app = create_app(settings, engine=engine)
    try:
        fill(app.state)
        load_reports_demo(app.state)
    finally:
        app.state.sequencer.stop()
