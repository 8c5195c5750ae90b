"""A real ``veche serve`` process, ``veche`` commands as subprocesses, and clients of a
running server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from kernel.db import make_engine
from kernel.settings import Settings
from tests.support.accounts import PASSWORD
from tests.support.elections import config
from tests.support.settings import FAST_ENV
from veche.pgtemp import free_port
from veche.setup import NewUser, create_user


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


def start_server(settings: Settings, *, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``veche serve`` on ``settings``' data on a free port; wait until /health answers."""
    port = free_port()
    env = {**os.environ, **FAST_ENV, "VECHE_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["VECHE_DATABASE_URL"] = settings.database_url
    if settings.smtp_host:  # the suite's SMTP server (tests.support.mail)
        env["VECHE_SMTP_HOST"] = settings.smtp_host
        env["VECHE_SMTP_PORT"] = str(settings.smtp_port)
        env["VECHE_SMTP_STARTTLS"] = str(settings.smtp_starttls).lower()
        env["VECHE_MAIL_FROM"] = settings.mail_from
    env["VECHE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "veche.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"the server exited early:\n{output}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not answer /health within 30 s")


def stop_server(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


def veche(
    *args: str, env: Mapping[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``veche ARGS…`` as a separate process, its output captured, no input."""
    return subprocess.run(
        [sys.executable, "-m", "veche.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
    )


def admin_client(url: str, settings: Settings, email: str = "admin@example.org") -> httpx.Client:
    """A client of the server at ``url``, logged in as an administrator (made if need be)."""
    engine = make_engine(settings)
    try:
        create_user(settings, engine, NewUser(email, PASSWORD, "Admin", "admin"))
    except Exception as exc:  # the same admin for a second server
        assert "already exists" in str(exc)
    engine.dispose()
    client = httpx.Client(base_url=url, timeout=60)
    response = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def open_code_election(admin: httpx.Client, election_id: str, voters: int) -> list[str]:
    """Open an election whose roll of ``voters`` votes with one-time access codes."""
    cfg = config(election_id, eligibility={"residents": False, "roll": True, "access_codes": True})
    assert admin.post("/api/v1/elections", json=cfg).status_code == 201
    roll = "voter_id\n" + "".join(f"V{n}\n" for n in range(voters))
    made = admin.post(
        f"/api/v1/elections/{election_id}/roll",
        content=roll.encode(),
        headers={"content-type": "text/csv"},
    )
    assert made.status_code == 201
    codes = admin.post(f"/api/v1/elections/{election_id}/access-codes").text
    assert admin.post(f"/api/v1/elections/{election_id}/open").status_code == 200
    return [line.split(",")[1] for line in codes.strip().split("\n")[1:]]
