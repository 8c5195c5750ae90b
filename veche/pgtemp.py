"""A throwaway PostgreSQL cluster in a temporary directory (tests and benchmarks).

``initdb`` and ``pg_ctl`` make and start a private cluster on a free port with trust
authentication on 127.0.0.1; ``stop()`` removes it. When running as root (as in CI),
the server runs as the ``postgres`` system user, since PostgreSQL refuses root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")


@dataclass
class TempCluster:
    base: Path
    port: int
    run_as: list[str]
    user: str = "veche"
    host: str = "127.0.0.1"

    @classmethod
    def start(cls, *, durable: bool = False) -> TempCluster:
        """Make and start a cluster; ``durable=False`` trades crash safety for speed."""
        base = Path(tempfile.mkdtemp(prefix="veche-pg-"))
        run_as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(base, "postgres", "postgres")
            run_as = ["runuser", "-u", "postgres", "--"]
        cluster = cls(base=base, port=free_port(), run_as=run_as)
        data = base / "data"
        subprocess.run(
            [
                *run_as,
                pg_bin("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                cluster.user,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {cluster.port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=300"
        )
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            [
                *run_as,
                pg_bin("pg_ctl"),
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
        return cluster

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.run_as,
                pg_bin("pg_ctl"),
                "-D",
                str(self.base / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
        )
        shutil.rmtree(self.base, ignore_errors=True)
