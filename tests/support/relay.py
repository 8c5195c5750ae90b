"""A real HTTP server in front of an app's test client, which may lie.

``veche verify`` and other auditors' tools fetch over real HTTP with ``urllib``; the relay
lets them read an in-process application, and lets a test play a dishonest server by
rewriting chosen answers (``rewrite(path, status, body) -> (status, body)``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

Rewrite = Callable[[str, int, bytes], tuple[int, bytes]]


def _honest(_path: str, status: int, body: bytes) -> tuple[int, bytes]:
    return status, body


@contextmanager
def relay(client: Any, rewrite: Rewrite = _honest) -> Iterator[str]:
    """Serve GET requests from ``client`` (one at a time) on a free local port; its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            client.cookies.clear()  # what a stranger sees
            answer = client.get(self.path)
            status, body = rewrite(self.path, answer.status_code, answer.content)
            self.send_response(status)
            content_type = answer.headers.get("content-type", "application/octet-stream")
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
