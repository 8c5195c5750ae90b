"""Protective headers on every response, key files, and password spraying."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.keys import KeyFileError, load_authority_key
from kernel.settings import Settings
from tests.support.accounts import Client
from veche.app import create_app
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user


@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/log/key", "/no-such-page", "/health"])
def test_security_headers_everywhere(client: Client, path: str) -> None:
    response = client.get(path, headers={"accept": "text/html"})
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers  # plain HTTP here


def test_hsts_behind_tls(settings: Settings, app: Litestar) -> None:
    secure = create_app(settings.with_changes(cookie_secure=True), engine=app.state.engine)
    with TestClient(secure) as client:
        response = client.get("/health")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_key_file_readable_by_others_is_refused(settings: Settings, app: Litestar) -> None:
    path = settings.keys_dir / "authority.key"
    os.chmod(path, 0o644)
    try:
        with pytest.raises(KeyFileError, match="chmod 600"):
            load_authority_key(settings.keys_dir)
        with pytest.raises(KeyFileError):
            create_app(settings)
    finally:
        os.chmod(path, 0o600)
    assert all((p.stat().st_mode & 0o077) == 0 for p in Path(settings.keys_dir).iterdir()), (
        "every key file is private"
    )


def test_password_spraying_from_one_address_is_throttled(
    client: Client, app: Litestar, settings: Settings
) -> None:
    """One password tried against many accounts: the per-address limit stops it."""
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    for n in range(3):
        create_user(
            settings,
            app.state.engine,
            NewUser(f"target{n}@example.org", "unguessable-pass-77", "T", "resident", "centre"),
        )
    statuses = []
    for n in range(settings.login_ip_max_failures + 5):
        response = client.post(
            "/api/v1/auth/login", json={"email": f"user{n}@example.org", "password": "Summer2026!"}
        )
        statuses.append(response.status_code)
    assert statuses[: settings.login_ip_max_failures] == [401] * settings.login_ip_max_failures
    assert set(statuses[settings.login_ip_max_failures :]) == {429}
    # The real owner, from the same address, must wait too; the spraying gained nothing.
    blocked = client.post(
        "/api/v1/auth/login",
        json={"email": "target0@example.org", "password": "unguessable-pass-77"},
    )
    assert blocked.status_code == 429
