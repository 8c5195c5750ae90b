"""Accounts over HTTP: the suite's password, logging in, residents."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from kernel.settings import Settings
from veche.setup import NewUser, create_user

Client = TestClient[Litestar]
PASSWORD = "meadow-lantern-42"


def login(client: Client, email: str) -> dict[str, str]:
    """Log in with the suite's password; the headers that carry the session's CSRF token."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def resident(
    client: Client, app: Litestar, settings: Settings, name: str, district: str = "centre"
) -> dict[str, str]:
    """A new resident ``name``@example.org of ``district``, logged in."""
    email = f"{name}@example.org"
    create_user(settings, app.state.engine, NewUser(email, PASSWORD, name, "resident", district))
    return login(client, email)
