"""How Debian's Chromium is started for the browser tests."""

from __future__ import annotations

import shutil

import pytest

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


def open_menu(page: object) -> None:
    """On a phone the site's menu is behind its button: open it if it is closed."""
    button = page.locator("#menu-button")  # type: ignore[attr-defined]
    if button.is_visible() and button.get_attribute("aria-expanded") != "true":
        button.click()


# What a page does in the browser does not depend on the database engine, which the HTTP
# tests cover on both: browser tests run their server on SQLite only.
SQLITE_ONLY = pytest.mark.parametrize("engine_name", ["sqlite"])
