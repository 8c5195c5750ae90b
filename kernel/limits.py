"""How often an account, or an address, may do something: sliding-window limits that
answer ``429`` with ``Retry-After`` and a sentence (docs/protocol.md §11.2).

A ``Limit`` allows ``count`` uses in any ``window`` seconds per subject: an account
(``account_subject``) or, where nobody is logged in, an address (``address_subject``).
``take`` counts one use, or raises ``TooManyRequests`` with the seconds until the oldest
counted use leaves the window. Each use is a ``rate_event`` row written in the caller's
transaction, so a limit holds across server processes and restarts, and a refused or
failed action (its transaction rolled back) is not counted; rows older than the window
are deleted as new ones come. Two requests that race may both pass at the last use:
a limit may be overshot by the number of requests in flight, never more.

Any package uses it (``kernel`` is the bottom layer): the proposals' drafts, uploads
and pledges do (``proposals.services.limits``); registration and logging in may.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kernel.accounts.models import RateEvent
from kernel.errors import TooManyRequests

__all__ = ["Limit", "RateEvent", "account_subject", "address_subject", "take"]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` uses of ``action`` in any ``window`` seconds per subject;
    ``count <= 0`` means no limit. ``message`` is the sentence a refusal gives (marked
    with ``N_`` so that pages show it in the reader's language)."""

    action: str
    count: int
    window: int
    message: str


def account_subject(account_id: int | None) -> str:
    return f"account:{account_id}"


def address_subject(address: str | None) -> str:
    return f"address:{address or 'unknown'}"


def take(db: Session, limit: Limit, subject: str, *, now: int | None = None) -> None:
    """Count one use of ``limit`` by ``subject`` in ``db``'s transaction, or refuse it
    (``429 too_many_requests`` with ``Retry-After``)."""
    if limit.count <= 0:
        return
    at = int(time.time()) if now is None else now
    key = f"{limit.action}:{subject}"[:300]
    since = at - limit.window
    db.execute(delete(RateEvent).where(RateEvent.key == key, RateEvent.at <= since))  # type: ignore[arg-type]
    used, oldest = db.execute(
        select(func.count(), func.min(RateEvent.at)).where(RateEvent.key == key)  # type: ignore[arg-type]
    ).one()
    if used >= limit.count:
        retry = max(1, int(oldest) + limit.window - at)
        raise TooManyRequests(limit.message, retry_after=retry)
    db.add(RateEvent(key=key, at=at))
    db.flush()
