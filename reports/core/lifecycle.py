"""The lifecycle of a report as one pure transition table, and its deadline clock
(docs/protocol.md §16.3).

``received → in_work → answered → closed``, with two ways back: a rating below 3
reopens an answered report for a supervisor (``answered → reopened``), who sends it back
to work (``reopened → in_work``); and an open report may be reassigned to another
organisation (``received | in_work | reopened → received``, the new organisation in the
entry). An answer needs text and at least one photo; a report closes when its reporter
rates it 3 or more, or on its own once ``close_after_days`` pass without a rating.

The deadline clock counts calendar time from receipt and stops at the answer: it runs
while the report is open (``received``, ``in_work``, ``reopened``) and stands still
while it is ``answered`` or ``closed``; a report is overdue when the clock passes its
deadline. Times are whole Unix seconds, passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["received", "in_work", "answered", "reopened", "closed"]
Actor = Literal["staff", "supervisor", "reporter", "system"]

STATUSES: tuple[Status, ...] = ("received", "in_work", "answered", "reopened", "closed")
OPEN: frozenset[Status] = frozenset({"received", "in_work", "reopened"})
DAY = 86_400
MAX_PHOTOS = 5
MIN_GOOD_RATING = 3
DEFAULT_CLOSE_AFTER_DAYS = 14

TRANSITIONS: dict[tuple[Status, Status], frozenset[Actor]] = {
    ("received", "in_work"): frozenset({"staff", "supervisor"}),
    ("received", "answered"): frozenset({"staff", "supervisor"}),
    ("in_work", "answered"): frozenset({"staff", "supervisor"}),
    ("reopened", "answered"): frozenset({"supervisor"}),
    ("answered", "closed"): frozenset({"reporter", "system"}),
    ("answered", "reopened"): frozenset({"reporter"}),
    ("reopened", "in_work"): frozenset({"supervisor"}),
    # Reassignment: the report starts again at the new organisation (its deadline does not).
    ("received", "received"): frozenset({"staff", "supervisor"}),
    ("in_work", "received"): frozenset({"staff", "supervisor"}),
    ("reopened", "received"): frozenset({"supervisor"}),
}


class IllegalTransition(ValueError):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"{current} -> {target}")
        self.current = current
        self.target = target
        self.allowed = tuple(sorted({b for (a, b) in TRANSITIONS if a == current}))


class AnswerRefused(ValueError):
    """An answer without text or without photo proof, or with too many photos."""


def check_transition(current: str, target: str, actor: Actor) -> None:
    """Allow the step or raise ``IllegalTransition`` (also for the wrong actor)."""
    actors = TRANSITIONS.get((current, target))  # type: ignore[arg-type]
    if actors is None or actor not in actors:
        raise IllegalTransition(current, target)


def check_answer(text: str, photo_count: int) -> None:
    if not text.strip():
        raise AnswerRefused("text")
    if photo_count < 1:
        raise AnswerRefused("photo")
    if photo_count > MAX_PHOTOS:
        raise AnswerRefused("too_many_photos")


def after_rating(rating: int) -> Status:
    """Where a rating takes an answered report: closed when good, reopened when not."""
    if not 1 <= rating <= 5:
        raise ValueError("a rating is 1 to 5")
    return "closed" if rating >= MIN_GOOD_RATING else "reopened"


@dataclass(frozen=True)
class Step:
    """One change of status at a time (Unix seconds)."""

    status: Status
    at: int


def clock_seconds(received_at: int, steps: Sequence[Step], now: int) -> int:
    """Seconds on the deadline clock at ``now``: time spent open since receipt.

    ``steps`` are the changes after receipt, in order; the clock runs while the report
    is open and stops while it is answered or closed."""
    total = 0
    running_since: int | None = received_at
    for step in steps:
        if step.at > now:
            break
        if step.status in OPEN:
            if running_since is None:
                running_since = step.at
        elif running_since is not None:
            total += max(0, step.at - running_since)
            running_since = None
    if running_since is not None:
        total += max(0, now - running_since)
    return total


def deadline_seconds(deadline_days: int) -> int:
    return deadline_days * DAY


def is_overdue(received_at: int, deadline_days: int, steps: Sequence[Step], now: int) -> bool:
    """Whether the clock has passed the deadline (an answered report stays overdue if it
    was answered late)."""
    return clock_seconds(received_at, steps, now) > deadline_seconds(deadline_days)


def due_for_auto_close(answered_at: int, close_after_days: int, now: int) -> bool:
    """An answered report without a rating closes on its own after ``close_after_days``."""
    return now >= answered_at + close_after_days * DAY
