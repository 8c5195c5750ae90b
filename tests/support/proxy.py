"""A small HTTP proxy on 127.0.0.1 in front of a real server, for the clients' tests.

It forwards every request to the server and records it: the TCP connection it came on
(a number per accepted connection), the method, the path and the headers. A ``lie`` may
answer instead of the server, or change the server's answer: the tests put it between a
voter's client (``veche vote`` or Chromium) and an honest server to play a lying one.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "accept-encoding",
    }
)


@dataclass(frozen=True)
class Seen:
    """One request as it reached the proxy."""

    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


Forward = Callable[[], Answer]
Lie = Callable[[Seen, Forward], Answer]


def honest(seen: Seen, forward: Forward) -> Answer:
    del seen
    return forward()


@dataclass
class Proxy:
    """The running proxy: ``url`` to give the clients, ``seen`` what came, ``lie`` to set."""

    url: str
    upstream: str
    seen: list[Seen] = field(default_factory=list)
    lie: Lie = honest


def _handler(proxy: Proxy, http: httpx.Client) -> type[BaseHTTPRequestHandler]:
    numbers = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one handler per connection

        def setup(self) -> None:
            super().setup()
            with lock:
                self.number = next(numbers)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.number, self.command, self.path, headers, body)
            with lock:
                proxy.seen.append(seen)

            def forward() -> Answer:
                sent = {k: v for k, v in headers.items() if k not in HOP_BY_HOP}
                response = http.request(self.command, self.path, headers=sent, content=body)
                kept = [
                    (k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP
                ]
                return Answer(response.status_code, kept, response.content)

            answer = proxy.lie(seen, forward)
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

    return Handler


@contextmanager
def running_proxy(upstream: str) -> Iterator[Proxy]:
    """A proxy on a free port of 127.0.0.1 in front of ``upstream``, for a ``with`` block."""
    with httpx.Client(base_url=upstream, timeout=120, follow_redirects=False) as http:
        proxy = Proxy(url="", upstream=upstream)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, http))
        server.daemon_threads = True
        proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
