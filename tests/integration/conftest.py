"""Fixtures of the HTTP tests: the people who act in them, logged in."""

from __future__ import annotations

import pytest
from litestar import Litestar

from kernel.settings import Settings
from tests.support.accounts import PASSWORD, Client, login
from tests.support.proposals import Actor, log_in_all, setup_people
from veche.setup import DEMO_DISTRICTS, NewUser, add_districts, create_user


@pytest.fixture(name="admin")
def fx_admin(client: Client, app: Litestar, settings: Settings) -> dict[str, str]:
    """The districts and an administrator, logged in: the headers with its CSRF token."""
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    create_user(settings, app.state.engine, NewUser("admin@example.org", PASSWORD, "A", "admin"))
    return login(client, "admin@example.org")


@pytest.fixture(name="people")
def fx_people(app: Litestar, settings: Settings, client: Client) -> dict[str, Actor]:
    """An admin, a moderator, a proposal's author and two other residents, logged in."""
    setup_people(app, settings)
    return log_in_all(client)
