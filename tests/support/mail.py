"""A real SMTP server on this machine for the tests (aiosmtpd), and reading its mail.

``MailCatcher`` listens on 127.0.0.1 on a free port and keeps every message it is
handed; ``settings_for`` points a deployment's ``smtp_*`` settings at it. Tests read
a message and follow the link in it as a person would.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+/confirm-email/([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server received it."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())

    def confirmation_path(self) -> str:
        """The path of the confirmation link in the message (``/confirm-email/<token>``)."""
        found = LINK.search(self.text)
        assert found is not None, self.text
        return f"/confirm-email/{found.group(1)}"


class _Handler:
    def __init__(self, box: MailCatcher) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.box.lock:
            self.box.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailCatcher:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def settings(self) -> dict[str, Any]:
        """The ``smtp_*`` settings that send a deployment's mail here."""
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "smtp_starttls": False,
            "mail_from": "veche@test.example",
        }

    def to(self, address: str, timeout: float = 10.0) -> list[Received]:
        """The messages received for ``address`` so far (waiting a little for the first)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = [m for m in self.messages if address in m.recipients]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def last_to(self, address: str) -> Received:
        found = self.to(address)
        assert found, f"no message for {address}"
        return found[-1]


@contextmanager
def mail_catcher() -> Iterator[MailCatcher]:
    catcher = MailCatcher()
    catcher.start()
    try:
        yield catcher
    finally:
        catcher.stop()
