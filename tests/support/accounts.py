"""Accounts over HTTP: the suite's password, logging in, residents."""

from __future__ import annotations

import hashlib

from litestar import Litestar
from litestar.testing import TestClient

from kernel.accounts.schemas import Verification, VerificationIn
from kernel.accounts.service import AccountService
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
    client: Client,
    app: Litestar,
    settings: Settings,
    name: str,
    district: str = "centre",
    *,
    confirmed: bool = True,
) -> dict[str, str]:
    """A new resident ``name``@example.org of ``district``, logged in; its address is
    confirmed unless ``confirmed=False``."""
    email = f"{name}@example.org"
    new = NewUser(email, PASSWORD, name, "resident", district, confirmed)
    create_user(settings, app.state.engine, new)
    return login(client, email)


def verify_resident(
    app: Litestar,
    email: str,
    district: str = "centre",
    *,
    number: str = "",
    staff_email: str = "admin@example.org",
) -> Verification:
    """Staff (the account ``staff_email``) verify the owner of ``email`` as a resident of
    ``district`` with a document numbered ``number`` (made from the address if empty),
    through the service the staff page and API call."""
    service: AccountService = app.state.accounts
    with app.state.read_sessions() as db:
        staff = service.find_user(db, staff_email)
        user = service.find_user(db, email)
    assert staff is not None and user is not None and user.id is not None
    number = number or "45" + hashlib.sha256(email.encode()).hexdigest()[:10].upper()
    return service.verify_resident(staff, user.id, VerificationIn(district, "passport", number))
