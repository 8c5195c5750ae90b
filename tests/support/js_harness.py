"""A Chromium page with ``kernel/static/js/veche-crypto.js`` loaded as ``window.V``: served
from a fake secure origin by ``page.route`` (WebCrypto needs a secure context), or
imported from a live server's /static."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.paths import ROOT

MODULE = ROOT / "kernel" / "static" / "js" / "veche-crypto.js"
ORIGIN = "https://veche.test"
HARNESS = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>veche-crypto harness</title>
<script type="module">
import * as V from "/static/js/veche-crypto.js";
window.V = V;
// Run f and report either its value or the refusal's code, for tests of failures.
window.attempt = async (f) => {
  try { return { value: await f() }; }
  catch (e) { return { error: e.code || e.name, detail: String(e.message) }; }
};
window.vecheReady = true;
</script></html>
"""


class Page:
    """A Chromium page with the module loaded as ``window.V``; each snippet runs after
    ``scope`` (by default ``V`` bound to the module), which a harness with more globals
    extends."""

    def __init__(self, page: Any, scope: str = "const V = window.V;") -> None:
        self.page = page
        self.scope = scope
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def run(self, body: str, arg: Any = None) -> Any:
        """Evaluate ``async (a) => { scope body }``."""
        return self.page.evaluate(f"async (a) => {{ {self.scope} {body} }}", arg)

    def attempt(self, body: str, arg: Any = None) -> dict[str, Any]:
        """Like ``run`` but returns ``{"value": …}`` or ``{"error": code, "detail": …}``."""
        answer: dict[str, Any] = self.page.evaluate(
            f"async (a) => window.attempt(async () => {{ {self.scope} {body} }})", arg
        )
        return answer


def serve_harness(route: Any) -> None:
    serve_harness_at(route, ORIGIN)


def serve_harness_at(route: Any, origin: str) -> None:
    path = route.request.url.removeprefix(origin).split("?")[0]
    if path == "/static/js/veche-crypto.js":
        route.fulfill(status=200, body=MODULE.read_text("utf-8"), content_type="text/javascript")
    elif path == "/":
        route.fulfill(status=200, body=HARNESS, content_type="text/html; charset=utf-8")
    else:
        route.fulfill(status=404, body="{}", content_type="application/json")


def load(context: Any, url: str) -> Page:
    page = Page(context.new_page())
    page.page.goto(url)
    page.page.wait_for_function("window.vecheReady === true")
    return page


def load_live(context: Any, url: str) -> Page:
    """A page of the real server, with the module imported from its /static."""
    page = Page(context.new_page())
    page.page.goto(url + "/")
    page.page.evaluate(
        """async () => {
          window.V = await import("/static/js/veche-crypto.js");
          window.attempt = async (f) => {
            try { return { value: await f() }; }
            catch (e) { return { error: e.code || e.name, detail: String(e.message) }; }
          };
        }"""
    )
    return page


@contextmanager
def harness_page(browser: Any) -> Iterator[Page]:
    """A fresh context's harness page at ``ORIGIN``; no script error may have happened on
    it by the end."""
    context = browser.new_context()
    context.route(f"{ORIGIN}/**", serve_harness)
    page = load(context, ORIGIN + "/")
    try:
        yield page
        assert page.errors == []
    finally:
        context.close()
