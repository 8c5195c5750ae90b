"""How Debian's Chromium is started for the browser tests."""

from __future__ import annotations

import shutil

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
