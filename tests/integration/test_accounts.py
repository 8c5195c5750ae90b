"""Accounts through HTTP on SQLite and PostgreSQL: registration, log-in, roles, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from sqlalchemy import select

from kernel import db as database
from kernel.accounts.models import User
from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user


@pytest.fixture(name="districts", autouse=True)
def fx_districts(app: Litestar, settings: Settings) -> None:
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)


def register(client: Client, email: str = "olga@example.org", **extra: Any) -> Any:
    body = {"email": email, "display_name": "Olga", "district": "centre", "password": PASSWORD}
    body.update(extra)
    return client.post("/api/v1/auth/register", json=body)


def login(client: Client, email: str = "olga@example.org", password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def stored_user(app: Litestar, email: str) -> User:
    with database.session_scope(app.state.sessions) as db:
        user = db.scalars(select(User).where(User.email == email)).one()
        db.expunge(user)
        return user


def test_register_login_me_logout(client: Client, app: Litestar) -> None:
    created = register(client, email="Olga@Example.org")
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["email"] == "olga@example.org"
    assert account["role"] == "resident"
    assert account["district"] == "centre"
    assert "password" not in created.text

    assert client.get("/api/v1/auth/me").status_code == 401
    logged = login(client, email="OLGA@example.org")
    assert logged.status_code == 200
    cookie = logged.headers["set-cookie"]
    assert "veche_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    csrf = logged.json()["csrf_token"]

    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["public_id"] == account["public_id"]

    # Logging out with the cookie needs the CSRF token.
    refused = client.post("/api/v1/auth/logout")
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf_failed"
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401


def test_stored_hash_is_argon2id(client: Client, app: Litestar) -> None:
    assert register(client).status_code == 201
    user = stored_user(app, "olga@example.org")
    assert user.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert PASSWORD not in user.password_hash


def test_hash_is_upgraded_on_login_when_parameters_change(
    client: Client, app: Litestar, settings: Settings
) -> None:
    assert register(client).status_code == 201
    stronger = settings.with_changes(argon2_time_cost=2, argon2_memory_cost=16)
    from kernel.accounts.service import AccountService

    app.state.accounts = AccountService(stronger)
    assert login(client).status_code == 200
    assert stored_user(app, "olga@example.org").password_hash.startswith(
        "$argon2id$v=19$m=16,t=2,p=1$"
    )
    # And the upgraded hash still logs in.
    assert login(client).status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(client: Client) -> None:
    assert register(client).status_code == 201
    wrong = login(client, password="not-the-password-1")
    unknown = login(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "wrong_credentials"


def test_duplicate_email_is_refused(client: Client) -> None:
    assert register(client).status_code == 201
    again = register(client, email="OLGA@example.org")
    assert again.status_code == 409
    assert again.json() == {
        "error": "email_taken",
        "detail": "An account with this e-mail address already exists.",
    }


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short1", "at least 10 characters"),
        ("qwertyuiop", "most common"),
        ("1234567890", "most common"),
        ("password123", "most common"),
        ("aaaaaaaaaaaa", "too few different"),
    ],
)
def test_weak_passwords_are_refused(client: Client, password: str, fragment: str) -> None:
    response = register(client, password=password)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_password"
    assert fragment in response.json()["detail"]


def test_registration_field_errors(client: Client) -> None:
    bad_email = register(client, email="not-an-email")
    assert bad_email.status_code == 400
    assert bad_email.json()["error"] == "invalid_email"
    bad_district = register(client, district="atlantis")
    assert bad_district.status_code == 400
    assert bad_district.json()["error"] == "invalid_district"
    missing = client.post("/api/v1/auth/register", json={"email": "a@b.org"})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_input"
    assert "display_name" in missing.json()["detail"]
    extra = register(client, role="admin")
    assert extra.status_code == 400
    assert "role" in extra.json()["detail"]


def test_login_throttling_gives_429_with_retry_after(client: Client, settings: Settings) -> None:
    assert register(client).status_code == 201
    for _ in range(settings.login_max_failures):
        assert login(client, password="wrong-password-99").status_code == 401
    blocked = login(client)  # even the right password waits now
    assert blocked.status_code == 429
    assert blocked.json()["error"] == "too_many_requests"
    retry_after = int(blocked.headers["retry-after"])
    assert 0 < retry_after <= settings.login_window_seconds
    # Another account is not locked by this one's failures.
    assert register(client, email="pavel@example.org").status_code == 201
    assert login(client, email="pavel@example.org").status_code == 200


def test_role_checks(client: Client, app: Litestar, settings: Settings) -> None:
    assert client.get("/api/v1/admin/users").status_code == 401
    assert register(client).status_code == 201
    assert login(client).status_code == 200
    forbidden = client.get("/api/v1/admin/users")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "forbidden_role"

    create_user(settings, app.state.engine, NewUser("root@example.org", PASSWORD, "Root", "admin"))
    csrf = login(client, email="root@example.org").json()["csrf_token"]
    users = client.get("/api/v1/admin/users")
    assert users.status_code == 200
    olga = next(u for u in users.json() if u["email"] == "olga@example.org")
    promoted = client.patch(
        f"/api/v1/admin/users/{olga['id']}/role",
        json={"role": "moderator"},
        headers={"X-CSRF-Token": csrf},
    )
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "moderator"
    bad_role = client.patch(
        f"/api/v1/admin/users/{olga['id']}/role",
        json={"role": "king"},
        headers={"X-CSRF-Token": csrf},
    )
    assert bad_role.status_code == 400
    missing = client.patch(
        "/api/v1/admin/users/99999/role", json={"role": "auditor"}, headers={"X-CSRF-Token": csrf}
    )
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert login(client).status_code == 200
    assert client.get("/api/v1/auth/me").json()["role"] == "moderator"


def test_session_id_changes_at_login(client: Client) -> None:
    assert register(client).status_code == 201
    first = login(client).cookies["veche_session"]
    second = login(client).cookies["veche_session"]
    assert first != second
    # The replaced session is gone, not merely shadowed.
    client.cookies.clear()
    client.cookies.set("veche_session", first)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_malformed_json_is_400(client: Client) -> None:
    response = client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "malformed_json"
    assert "not valid JSON" in body["detail"]


def test_oversize_body_is_413(client: Client, settings: Settings) -> None:
    huge = b'{"email": "' + b"a" * (settings.max_body_bytes + 10) + b'"}'
    response = client.post(
        "/api/v1/auth/register", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert str(settings.max_body_bytes) in response.json()["detail"]


def test_form_post_without_csrf_is_refused(client: Client) -> None:
    response = client.post(
        "/login",
        data={"email": "x@example.org", "password": PASSWORD},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"
    # A form body dressed as text/plain is no way around it.
    sneaky = client.post(
        "/api/v1/auth/login",
        content=b'{"email": "x@example.org", "password": "meadow-lantern-42"}',
        headers={"content-type": "text/plain"},
    )
    assert sneaky.status_code == 403


def test_unknown_route_and_method_use_the_error_shape(client: Client) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "There is nothing at this address."}
    wrong_method = client.delete("/api/v1/auth/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"


def test_health_and_schema(client: Client) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok"}
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200
    operations = {
        op["operationId"]
        for path in schema.json()["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert {"register", "login", "logout", "me", "listUsers", "health"} <= operations
