"""End-to-end fixtures: the real ``veche serve`` process and Debian's Chromium."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from kernel.settings import Settings
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import LiveServer, start_server, stop_server
from tests.support.settings import FAST
from veche.demo import run_demo_election
from veche.setup import DEMO_DISTRICTS, add_districts, initialize, load_demo


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


def _built_demo(factory: pytest.TempPathFactory) -> Path:
    """The demo's data directory, made once for the whole run: under ``make test``'s two
    processes the first to get here builds it in the run's shared temporary directory while
    the other waits on the lock, then both copy it."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the directory of the run, shared by its processes
    built = root / "demo-built" / "var"
    with (root / "demo-built.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (built.parent / "done").exists():
            shutil.rmtree(built.parent, ignore_errors=True)
            settings = Settings(data_dir=built, **FAST)
            engine = initialize(settings)
            load_demo(settings, engine)
            engine.dispose()
            run_demo_election(settings, 30, say=lambda _text: None)
            (built.parent / "done").touch()
    return built


@pytest.fixture(name="demo_server", scope="session")
def fx_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One demo for the browser tests that read it (the crawl, accessibility, the reports'
    flow), on SQLite: the pages read the same rows on both engines, which the HTTP tests of
    the pages check on PostgreSQL too. Each test process serves its own copy of it."""
    data_dir = tmp_path_factory.mktemp("demo") / "var"
    shutil.copytree(_built_demo(tmp_path_factory), data_dir)
    settings = Settings(data_dir=data_dir, **FAST)
    process, url = start_server(settings)
    try:
        yield LiveServer(url=url, settings=settings)
    finally:
        stop_server(process)
