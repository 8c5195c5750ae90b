"""End-to-end fixtures: the real ``veche serve`` process and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kernel.settings import Settings
from tests.conftest import FAST
from veche.pgtemp import free_port
from veche.setup import DEMO_DISTRICTS, add_districts, initialize

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings


def start_server(settings: Settings, *, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "VECHE_DATA_DIR": str(settings.data_dir),
        "VECHE_ARGON2_TIME_COST": str(FAST["argon2_time_cost"]),
        "VECHE_ARGON2_MEMORY_COST": str(FAST["argon2_memory_cost"]),
        "VECHE_ARGON2_PARALLELISM": str(FAST["argon2_parallelism"]),
        "VECHE_ALLOW_TEST_KEYS": "true",
    }
    if settings.database_url:
        env["VECHE_DATABASE_URL"] = settings.database_url
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


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


@pytest.fixture(name="live_server")
def fx_live_server(settings: Settings) -> Iterator[LiveServer]:
    engine = initialize(settings)
    add_districts(settings, engine, DEMO_DISTRICTS)
    engine.dispose()
    process, url = start_server(settings)
    try:
        yield LiveServer(url=url, settings=settings)
    finally:
        stop_server(process)


@pytest.fixture(name="browser", scope="session")
def fx_browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
