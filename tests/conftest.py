"""Shared fixtures: a throwaway PostgreSQL cluster, settings, the app on both engines.

The PostgreSQL cluster is made once per test run with ``initdb`` and ``pg_ctl`` in a
temporary directory on a free port; every test that asks for a database gets a fresh
one in it. Tests that touch the database run on SQLite and on PostgreSQL through the
``engine_name`` parameter.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from veche.app import create_app
from veche.settings import Settings
from veche.setup import initialize

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

# Cheap argon2 and small RSA keys: set through configuration, as a deployment would.
FAST = {
    "argon2_time_cost": 1,
    "argon2_memory_cost": 8,
    "argon2_parallelism": 1,
    "rsa_key_bits": 1024,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")


@dataclass(frozen=True)
class PgCluster:
    host: str
    port: int
    user: str

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(name="pg_cluster", scope="session")
def fx_pg_cluster() -> Iterator[PgCluster]:
    base = Path(tempfile.mkdtemp(prefix="veche-pg-"))
    data = base / "data"
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root; the server runs as the postgres system user.
        shutil.chown(base, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [
            *run_as,
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "veche",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    subprocess.run(
        [
            *run_as,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield PgCluster(host="127.0.0.1", port=port, user="veche")
    finally:
        subprocess.run(
            [*run_as, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


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
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture(name="settings")
def fx_settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "var", database_url=database_url, **FAST)


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
