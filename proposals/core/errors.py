"""Refusals of the proposals package, as the application's typed errors."""

from __future__ import annotations

from kernel.errors import Conflict
from proposals.core.lifecycle import IllegalTransition


def illegal(exc: IllegalTransition) -> Conflict:
    """The 409 for a step the lifecycle does not allow, naming the allowed next states."""
    allowed = ", ".join(exc.allowed) or "none"
    return Conflict(
        f"A proposal that is {exc.current} cannot become {exc.target}. "
        f"Allowed next states: {allowed}.",
        code="illegal_transition",
    )
