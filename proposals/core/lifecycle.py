"""The lifecycle of a proposal as one pure transition table (docs/protocol.md
§4.12).

``draft → submitted → supported → in_review → accepted | rejected → on_ballot →
won | lost → in_implementation → completed``. Each allowed step names who may take it:
the proposal's author, a moderator, an admin, or the system (a rule reached: the support
threshold, a milestone reported). Every change of status in the service goes through
``check_transition``, so no other code decides what may follow what.
"""

from __future__ import annotations

from typing import Literal

Status = Literal[
    "draft",
    "submitted",
    "supported",
    "in_review",
    "accepted",
    "rejected",
    "on_ballot",
    "won",
    "lost",
    "in_implementation",
    "completed",
]
Actor = Literal["author", "moderator", "admin", "system"]

STATUSES: tuple[Status, ...] = (
    "draft",
    "submitted",
    "supported",
    "in_review",
    "accepted",
    "rejected",
    "on_ballot",
    "won",
    "lost",
    "in_implementation",
    "completed",
)

TRANSITIONS: dict[tuple[Status, Status], Actor] = {
    ("draft", "submitted"): "author",
    ("submitted", "supported"): "system",
    ("supported", "in_review"): "system",
    ("in_review", "accepted"): "moderator",
    ("in_review", "rejected"): "moderator",
    ("accepted", "on_ballot"): "admin",
    ("on_ballot", "won"): "admin",
    ("on_ballot", "lost"): "admin",
    ("won", "in_implementation"): "system",
    ("in_implementation", "completed"): "system",
}

# Proposals whose supports may still be counted and whose pledges may still change.
SUPPORTABLE: frozenset[Status] = frozenset({"submitted"})
PLEDGEABLE: frozenset[Status] = frozenset({"submitted", "supported", "in_review", "accepted"})
PUBLIC: frozenset[Status] = frozenset(STATUSES) - {"draft"}


class IllegalTransition(Exception):
    """The step is not in the table, or not for this actor."""

    def __init__(self, current: str, target: str, allowed: tuple[str, ...]) -> None:
        self.current = current
        self.target = target
        self.allowed = allowed
        super().__init__(f"{current} -> {target}")


def allowed_next(current: str, actor: Actor | None = None) -> tuple[Status, ...]:
    """The statuses that may follow ``current`` (for ``actor`` when given), in table order."""
    return tuple(
        target
        for (source, target), who in TRANSITIONS.items()
        if source == current and (actor is None or who == actor)
    )


def check_transition(current: str, target: str, actor: Actor) -> Status:
    """``target`` if ``actor`` may move a proposal from ``current`` to it, else raise."""
    for (source, destination), who in TRANSITIONS.items():
        if source == current and destination == target and who == actor:
            return destination
    raise IllegalTransition(current, target, allowed_next(current))
