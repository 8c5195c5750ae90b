"""No link the site shows leads to a server error: a crawler over the demo.

The demo's election is run through the real protocol (few voters), then a real server
is started on its data and every same-origin link reachable from the home page is
followed — anonymously, as a resident and as an admin — in both languages.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import closing
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.support.paths import ARTIFACTS
from tests.support.server import LiveServer
from veche.setup import DEMO_PASSWORD

# Pages of the same shape (the same template: ids and numbers aside) are checked once.
SHAPE = re.compile(r"\d+")
LINK = re.compile(r"""<a\b[^>]*\bhref=["']([^"'#]+)""", re.IGNORECASE)
MAX_PAGES = 600
# At most this many pages of one shape (the same page for other ids or numbers).
PER_SHAPE = 25


def crawl(client: httpx.Client, origin: str, *, one_per_shape: bool = False) -> dict[str, int]:
    """Status of every same-origin page reachable from /, following redirects; with
    ``one_per_shape``, of one page of each shape (ids and numbers aside)."""
    seen: dict[str, int] = {}
    shapes: Counter[str] = Counter()
    queue = ["/"]
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        shape = SHAPE.sub("N", path.split("?")[0])
        if one_per_shape and (shape in shapes or "/lang/" in path):
            continue
        # Many pages of one shape (log entries, reports) would crowd out the rest.
        if shapes[shape] >= PER_SHAPE:
            continue
        shapes[shape] += 1
        response = client.get(path, headers={"accept": "text/html"})
        seen[path] = response.status_code
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        base = str(response.url)
        for href in LINK.findall(response.text):
            target = urlsplit(urljoin(base, unescape(href)))
            if f"{target.scheme}://{target.netloc}" != origin:
                continue
            local = target.path + (f"?{target.query}" if target.query else "")
            if local not in seen and local not in queue:
                queue.append(local)
    return seen


@pytest.mark.slow
def test_no_link_of_the_demo_is_a_server_error(demo_server: LiveServer) -> None:
    url = demo_server.url
    visited: dict[str, int] = {}
    for email, lang in ((None, "en"), ("anna@demo.veche", "ru"), ("admin@demo.veche", "en")):
        client = httpx.Client(base_url=url, timeout=120, follow_redirects=True)
        with closing(client):
            client.cookies.set("veche_lang", lang)
            if email:
                login = client.post(
                    "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
                )
                assert login.status_code == 200, login.text
            seen = crawl(client, url)
        errors = {path: status for path, status in seen.items() if status >= 500}
        assert errors == {}, errors
        visited.update(seen)
    # The crawl reached the pages of every part of the site.
    for page in (
        "/elections",
        "/elections/centre-2026",
        "/elections/centre-2026/results",
        "/elections/riverside-2026",
        "/log",
        "/log/entries",
        "/log/checkpoints",
        "/check",
        "/admin/elections",
        "/admin/elections/centre-2026",
        "/api/v1/elections/centre-2026/export.pb",
    ):
        assert visited.get(page) == 200, (page, visited.get(page))
    assert len(visited) > 40


SHOWN = {
    "dashboard": "/admin/elections/centre-2026",
    "results-demo": "/elections/centre-2026/results",
    "entries": "/log/entries",
    "checkpoints": "/log/checkpoints",
    "elections-demo": "/elections",
    "ballot-demo": "/elections/riverside-2026",
}


@pytest.mark.browser
def test_the_demo_pages_fit_a_phone_and_a_laptop(browser: Any, demo_server: LiveServer) -> None:
    """Screenshots of the demo's pages at 390×844 and 1366×768 in both languages; no
    page scrolls sideways on the phone."""
    ARTIFACTS.mkdir(exist_ok=True)
    for lang, locale in (("en", "en-GB"), ("ru", "ru-RU")):
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale=locale)
        try:
            page = context.new_page()
            page.goto(demo_server.url + "/login")
            page.locator("#email").fill("admin@demo.veche")
            page.locator("#password").fill(DEMO_PASSWORD)
            page.locator("form[action='/login'] button[type=submit]").click()
            page.wait_for_url(demo_server.url + "/")
            for name, path in SHOWN.items():
                page.goto(demo_server.url + path)
                assert page.locator("html").get_attribute("lang") == lang
                wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                for size, (width, height) in (("phone", (390, 844)), ("laptop", (1366, 768))):
                    page.set_viewport_size({"width": width, "height": height})
                    shot = ARTIFACTS / f"pages-{name}-{lang}-{size}.png"
                    page.screenshot(path=str(shot), full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                assert wide <= 1, (path, wide)
        finally:
            context.close()


def page_shapes(url: str, email: str | None, lang: str) -> list[str]:
    """One path of each shape that the crawl reaches with status 200 as ``email``."""
    client = httpx.Client(base_url=url, timeout=120, follow_redirects=True)
    with closing(client):
        client.cookies.set("veche_lang", lang)
        if email:
            login = client.post(
                "/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD}
            )
            assert login.status_code == 200, login.text
        seen = crawl(client, url, one_per_shape=True)
        shapes: dict[str, str] = {}
        for path, status in seen.items():
            shape = SHAPE.sub("N", path.split("?")[0])
            if status != 200 or path.startswith("/api/") or "/lang/" in path or shape in shapes:
                continue
            # Pages only: a download (CSV, PDF, JSON) is not a page to check.
            kind = client.get(path, headers={"accept": "text/html"}).headers.get("content-type")
            if (kind or "").startswith("text/html"):
                shapes[shape] = path
    return sorted(shapes.values())


# Each page in Russian on a phone and in English on a laptop: both languages and both
# sizes, every page in two of the four combinations (the suite's time allows no more),
# one test each, so that the suite's two workers can share them.
COMBINATIONS = {"ru-phone": ("ru", "ru-RU", (390, 844)), "en-laptop": ("en", "en-GB", (1366, 768))}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("combination", list(COMBINATIONS))
def test_no_page_has_a_serious_accessibility_violation(
    browser: Any, demo_server: LiveServer, combination: str
) -> None:
    """axe-core over a page of each shape the crawl reaches as an administrator, and the
    pages only a visitor sees (log-in, registration), in Russian on a phone or in
    English on a laptop: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe

    script = Axe().axe_script
    url = demo_server.url
    admin_paths = page_shapes(url, "admin@demo.veche", "en")
    visitor_paths = [p for p in page_shapes(url, None, "en") if p not in admin_paths]
    assert len(admin_paths) > 15 and visitor_paths, (admin_paths, visitor_paths)
    found: list[str] = []
    checked = 0
    lang, locale, (width, height) = COMBINATIONS[combination]
    for email, paths in (("admin@demo.veche", admin_paths), (None, visitor_paths)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        try:
            context.add_init_script(script=script)
            # Map tiles come from outside, which this machine cannot reach: refused at
            # once rather than left to time out before each page's load event.
            context.route(
                lambda address: not address.startswith(url),
                lambda route: route.abort(),
            )
            context.add_cookies([{"name": "veche_lang", "value": lang, "url": url}])
            if email:
                login = context.request.post(
                    url + "/api/v1/auth/login",
                    data={"email": email, "password": DEMO_PASSWORD},
                )
                assert login.ok, login.text()
            page = context.new_page()
            for path in paths:
                page.goto(url + path)
                violations = page.evaluate(
                    "axe.run({resultTypes: ['violations']}).then(r => r.violations)"
                )
                checked += 1
                for violation in violations:
                    if violation["impact"] in ("serious", "critical"):
                        targets = [n["target"] for n in violation["nodes"][:3]]
                        found.append(f"{path} [{lang} {width}px] {violation['id']}: {targets}")
        finally:
            context.close()
    assert checked == len(admin_paths) + len(visitor_paths)
    assert found == [], "\n".join(found)
