"""End-to-end fixtures: the real ``veche serve`` process and Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kernel.settings import Settings
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.server import LiveServer, start_server, stop_server
from veche.setup import DEMO_DISTRICTS, add_districts, initialize


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
