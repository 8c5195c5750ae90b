"""Elections over HTTP: configurations, opening one, a whole election run, the log."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar

from ballot.core.client import VoterClient
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client, login, verify_resident
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user


def when(minutes: int) -> str:
    """The time ``minutes`` from now, as a configuration writes it (RFC 3339 UTC)."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def config(election_id: str = "centre-2026", **changes: Any) -> dict[str, Any]:
    """An approval election of the Centre district, open from five minutes ago for an hour;
    its roll votes (by confirmed e-mail or access code)."""
    base: dict[str, Any] = {
        "id": election_id,
        "title": "Centre 2026",
        "district": "centre",
        "budget": 1_000_000,
        "currency": "RUB",
        "projects": [
            {"id": "park", "title": "Park", "cost": 400_000},
            {"id": "library", "title": "Library", "cost": 350_000},
            {"id": "playground", "title": "Playground", "cost": 300_000},
        ],
        "ballot": {
            "kind": "approval",
            "min_projects": 1,
            "max_projects": 3,
            "max_total_cost": 1_000_000,
        },
        "rule": {"name": "greedy"},
        "window": {"opens_at": when(-5), "closes_at": when(60)},
        "eligibility": {"residents": False, "roll": True, "access_codes": True},
        "rsa_key_bits": 1024,
    }
    base.update(changes)
    return base


# The body of a close before the window's end (docs/protocol.md §9.1): tests close their
# elections while the window is still open.
EARLY_CLOSE = {"early": True, "reason": "The test is over; voting ends before its window."}


# Eligibility of an election that admits residents verified by staff.
RESIDENTS = {"residents": True, "roll": False, "access_codes": False}


def create_election(
    client: Client, admin: dict[str, str], election_id: str = "centre-2026", **changes: Any
) -> str:
    """Create the election of ``config(election_id, **changes)`` as a draft; its id."""
    cfg = config(election_id, **changes)
    created = client.post("/api/v1/elections", json=cfg, headers=admin)
    assert created.status_code == 201, created.text
    return str(cfg["id"])


def open_election(client: Client, admin: dict[str, str], **changes: Any) -> str:
    """Create and open the election of ``config(**changes)``; its id."""
    election_id = create_election(client, admin, **changes)
    opened = client.post(f"/api/v1/elections/{election_id}/open", headers=admin)
    assert opened.status_code == 200, opened.text
    return election_id


def verified_residents(
    app: Litestar, settings: Settings, *names: str, district: str = "centre"
) -> list[str]:
    """Residents ``name``@example.org of ``district`` (addresses confirmed) whom staff
    (``admin@example.org``, who must exist) verified; their addresses. Made before the
    election opens, they are in its electorate."""
    emails = []
    for name in names:
        email = f"{name}@example.org"
        new = NewUser(email, PASSWORD, name, "resident", district, True)
        create_user(settings, app.state.engine, new)
        verify_resident(app, email, district)
        emails.append(email)
    return emails


def log_lines(client: Client) -> list[bytes]:
    """Every entry of the log, page by page."""
    lines: list[bytes] = []
    while True:
        page = client.get(f"/api/v1/log/entries?start={len(lines)}")
        if page.status_code == 404:
            return lines
        lines.extend(page.content.split(b"\n")[:-1])


PROJECTS = [
    {"id": "park", "title": "Park", "cost": 400_000},
    {"id": "library", "title": "Library", "cost": 350_000},
    {"id": "playground", "title": "Playground", "cost": 300_000},
    {"id": "bench", "title": "Benches", "cost": 50_000},
    {"id": "lights", "title": "Street lights", "cost": 250_000},
]


def run_election(
    client: Client, app: Litestar, settings: Settings, rule: dict[str, Any], voters: int = 40
) -> tuple[str, list[dict[str, Any]]]:
    """An election with ``rule`` from opening to closing: ``voters`` on a roll vote with
    access codes, some of them twice. Its id and each voter's last choices."""
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    create_user(settings, app.state.engine, NewUser("admin@example.org", PASSWORD, "A", "admin"))
    admin = login(client, "admin@example.org")
    cfg = config(
        projects=PROJECTS,
        rule=rule,
        ballot={"kind": "approval", "min_projects": 1, "max_projects": 5},
        eligibility={"residents": False, "roll": True, "access_codes": True},
    )
    assert client.post("/api/v1/elections", json=cfg, headers=admin).status_code == 201
    roll = "voter_id\n" + "\n".join(f"V{k}" for k in range(voters)) + "\n"
    assert (
        client.post(
            f"/api/v1/elections/{cfg['id']}/roll",
            content=roll.encode(),
            headers={**admin, "content-type": "text/csv"},
        ).status_code
        == 201
    )
    codes = client.post(f"/api/v1/elections/{cfg['id']}/access-codes", headers=admin).text
    assert client.post(f"/api/v1/elections/{cfg['id']}/open", headers=admin).status_code == 200
    rows = [line.split(",") for line in codes.strip().split("\n")[1:]]
    client.cookies.clear()
    voter = VoterClient(client)
    info = voter.election(cfg["id"], allow_test_keys=True)
    rng = random.Random(11)
    choices_made = []
    for _ref, code in rows:
        wallet = voter.obtain_credential(info, access_code=code)
        picks = rng.sample([p["id"] for p in PROJECTS], rng.randint(1, 3))
        voter.cast(info, wallet, {"approve": picks})
        if rng.random() < 0.2:  # some change their minds; the last ballot counts
            picks = rng.sample([p["id"] for p in PROJECTS], rng.randint(1, 3))
            voter.cast(info, wallet, {"approve": picks})
        choices_made.append({"approve": picks})
    admin = login(client, "admin@example.org")
    closed = client.post(f"/api/v1/elections/{cfg['id']}/close", json=EARLY_CLOSE, headers=admin)
    assert closed.status_code == 200, closed.text
    return str(cfg["id"]), choices_made
