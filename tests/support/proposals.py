"""Proposals over HTTP: logged-in actors, a budgeting program, proposals on their road."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client
from tests.support.elections import when
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user

# Valid INNs (check digits hold) and corrupted ones.
VALID_INNS = ("7707083893", "7830002293", "500100732259", "773370857141")
INVALID_INNS = ("7707083894", "500100732258", "12345", "77070838930", "abcdefghij", "")


@dataclass
class Actor:
    """A logged-in client: its own cookies and CSRF token."""

    client: Client
    csrf: str
    token: str

    def use(self) -> Client:
        """The shared client, carrying this actor's session cookie."""
        self.client.cookies.clear()
        self.client.cookies.set("veche_session", self.token)
        return self.client

    def call(self, method: str, url: str, json: Any = None, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if method != "GET" else {}
        return self.use().request(method, url, json=json, headers=headers, **kw)


def setup_people(app: Litestar, settings: Settings, residents: int = 3) -> None:
    """The districts, an admin, a moderator and ``residents`` residents of the Centre."""
    engine = app.state.engine
    add_districts(settings, engine, DEMO_DISTRICTS)
    create_user(settings, engine, NewUser("admin@example.org", PASSWORD, "Admin", "admin"))
    create_user(settings, engine, NewUser("mod@example.org", PASSWORD, "Mod", "moderator"))
    for i in range(residents):
        new = NewUser(f"r{i}@example.org", PASSWORD, f"Res {i}", "resident", "centre", True)
        create_user(settings, engine, new)


def login(client: Client, email: str) -> Actor:
    client.cookies.clear()
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.cookies["veche_session"]
    client.cookies.clear()
    return Actor(client, response.json()["csrf_token"], token)


def log_in_all(client: Client) -> dict[str, Actor]:
    """The admin, the moderator, the author and two other residents."""
    emails = {
        "admin": "admin@example.org",
        "mod": "mod@example.org",
        "author": "r0@example.org",
        "r1": "r1@example.org",
        "r2": "r2@example.org",
    }
    return {name: login(client, email) for name, email in emails.items()}


def program_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Budget 2027",
        "districts": [
            {"district": "centre", "budget": 100_000_000},
            {"district": "north", "budget": 50_000_000},
        ],
        "categories": ["Parks", "Roads"],
        "phases": {"submission": {"starts": "2027-01-01", "ends": "2027-01-31"}},
        "support_threshold": 2,
        "cofund_percent": 5,
        "cofund_who": "both",
    }
    body.update(changes)
    return body


def proposal_body(program: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program": program,
        "title": "Benches in the park",
        "summary": "Ten benches along the alley",
        "description": "Wooden benches.",
        "category": "Parks",
        "district": "centre",
        "cost": 1_000_000,
        "lat_e6": 55_751_244,
        "lon_e6": 37_618_423,
    }
    body.update(changes)
    return body


def make_program(admin: Actor, **changes: object) -> int:
    response = admin.call("POST", "/api/v1/programs", program_body(**changes))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def phase(admin: Actor, program: int, name: str) -> None:
    response = admin.call("POST", f"/api/v1/programs/{program}/phase", {"phase": name})
    assert response.status_code == 200, response.text


def submitted(people: dict[str, Actor], program: int, **changes: object) -> int:
    """A proposal by the author, submitted; its id."""
    author = people["author"]
    created = author.call("POST", "/api/v1/proposals", proposal_body(program, **changes))
    assert created.status_code == 201, created.text
    pid = int(created.json()["id"])
    response = author.call("POST", f"/api/v1/proposals/{pid}/submit")
    assert response.status_code == 200, response.text
    return pid


def election_rest(election_id: str) -> dict[str, Any]:
    """The part of an election's configuration that does not come from a programme."""
    return {
        "id": election_id,
        "title": "Centre 2027",
        "ballot": {"kind": "approval", "min_projects": 1, "max_projects": 2},
        "rule": {"name": "greedy"},
        "window": {"opens_at": when(-5), "closes_at": when(60)},
        "eligibility": {"residents": True, "roll": False, "access_codes": False},
        "rsa_key_bits": 1024,
    }
