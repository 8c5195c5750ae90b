"""Reading pages as a Russian reader: the English words left in what a reader sees or
hears, and a crawl of a site in Russian that collects them page by page."""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from tests.support.accounts import Client
from tests.support.pages import HTML
from tests.support.proposals import Actor

# Names, formats and standards that are the same in any language.
ALLOWED = {
    "CSV", "ISO", "GeoJSON", "JSON", "PDF", "PNG", "JPEG", "WebP", "SHA", "RFC", "UTC", "MSK",
    "Pabulib", "OpenStreetMap", "Leaflet", "English", "HTTP", "HTTPS", "URL", "API",
    "OpenAPI", "QR", "TOML", "ID", "RSA", "C2SP", "MES", "JavaScript", "Veche", "pb",
    "ABCDE-FGHJK-LMNPQ-RSTUV",  # the example of an access code
}  # fmt: skip
SKIPPED = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "var"}
SHOWN_ATTRIBUTES = ("aria-label", "alt", "title", "placeholder")
WORD = re.compile(r"[A-Za-z](?:[A-Za-z'’-]*[A-Za-z])?")
EMAIL = re.compile(r"\S+@\S+")
LINK = re.compile(r"""<a\b[^>]*\bhref=["']([^"'#]+)""", re.IGNORECASE)
# Pages of one pattern (digits replaced) visited at most this many times.
PER_PATTERN = 3


class Visible(HTMLParser):
    """The text a reader sees or hears, outside code samples and untranslatable parts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def skipping(self) -> bool:
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        skip = tag in SKIPPED or values.get("translate") == "no"
        if not skip and not self.skipping():
            self.parts.extend(str(values[a]) for a in SHOWN_ATTRIBUTES if values.get(a))
        if tag not in {"br", "img", "input", "meta", "link", "hr", "wbr", "source"}:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping():
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    reader = Visible()
    reader.feed(html)
    text = EMAIL.sub(" ", " ".join(reader.parts))
    return [w for w in WORD.findall(text) if w not in ALLOWED and len(w) > 1]


def crawl(
    client: Client, starts: list[str], within: tuple[str, ...] = ("/",)
) -> dict[str, list[str]]:
    """English words on every page reachable from ``starts`` (through links to paths that
    start with one of ``within``), by page."""
    found: dict[str, list[str]] = {}
    seen: set[str] = set()
    patterns: Counter[str] = Counter()
    queue = list(starts)
    while queue:
        path = queue.pop(0)
        pattern = re.sub(r"\d+", "#", path)
        if path in seen or patterns[pattern] >= PER_PATTERN:
            continue
        seen.add(path)
        patterns[pattern] += 1
        response = client.get(path, headers=HTML)
        assert response.status_code < 500, (path, response.status_code)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        html = response.text
        assert 'lang="ru"' in html, path
        words = english_words(html)
        if words:
            found[path] = words
        for href in LINK.findall(html):
            target = urlsplit(urljoin("http://testserver.local" + path, unescape(href)))
            if target.netloc not in {"", "testserver.local"}:
                continue
            local = target.path + (f"?{target.query}" if target.query else "")
            if local.startswith(("/api/", "/static/", "/uploads/", "/lang/", "/schema")):
                continue
            if not local.startswith(within):
                continue
            if local not in seen:
                queue.append(local)
    return found


def as_russian(actor: Actor | None, client: Client) -> Client:
    used = actor.use() if actor else client
    if actor is None:
        used.cookies.clear()
    used.cookies.set("veche_lang", "ru")
    return used
