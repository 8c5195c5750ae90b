"""Shared fixtures: a throwaway PostgreSQL cluster, settings, the app on both engines.

The PostgreSQL cluster is made once per test run with ``initdb`` and ``pg_ctl`` in a
temporary directory on a free port; every test that asks for a database gets a fresh
one in it. Tests that touch the database run on SQLite and on PostgreSQL through the
``engine_name`` parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from kernel.settings import Settings
from tests.support.mail import MailCatcher, mail_catcher
from tests.support.settings import FAST
from veche.app import create_app
from veche.pgtemp import TempCluster
from veche.setup import initialize


@pytest.fixture(name="pg_cluster", scope="session")
def fx_pg_cluster() -> Iterator[TempCluster]:
    cluster = TempCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(
    name="engine_name",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def fx_engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(name="database_url")
def fx_database_url(engine_name: str, request: pytest.FixtureRequest) -> str:
    if engine_name == "sqlite":
        return ""
    cluster: TempCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture(name="smtp", scope="session")
def fx_smtp() -> Iterator[MailCatcher]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; every deployment of the suite sends its
    mail there."""
    with mail_catcher() as catcher:
        yield catcher


@pytest.fixture(name="settings")
def fx_settings(tmp_path: Path, database_url: str, smtp: MailCatcher) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=database_url, **FAST, **smtp.settings())


@pytest.fixture(name="app")
def fx_app(settings: Settings) -> Iterator[Litestar]:
    engine = initialize(settings)
    app = create_app(settings, engine=engine)
    yield app
    engine.dispose()


@pytest.fixture(name="client")
def fx_client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client
