"""End-to-end fixtures: the real ``veche serve`` process and Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator

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


@pytest.fixture(name="demo_server", scope="session")
def fx_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One demo for the browser tests that read it (the crawl, accessibility, the reports'
    flow), on SQLite: the pages read the same rows on both engines, which the HTTP tests of
    the pages check on PostgreSQL too."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo") / "var", **FAST)
    engine = initialize(settings)
    load_demo(settings, engine)
    engine.dispose()
    run_demo_election(settings, 30, say=lambda _text: None)
    process, url = start_server(settings)
    try:
        yield LiveServer(url=url, settings=settings)
    finally:
        stop_server(process)
