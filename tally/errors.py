"""Exceptions raised by the tally's pure core (docs/architecture.md: typed errors, mapped once).

Every error carries a short machine ``code`` and a human ``detail`` sentence. The core
raises them and never returns ``None`` to mean failure; the shells (CLI, services) map
them to an exit code or an HTTP response once.
"""

from __future__ import annotations

__all__ = ["PabulibError", "TallyError", "TieRefused", "UnknownRule"]


class TallyError(ValueError):
    """Base of every error the tally core raises."""

    code: str = "tally_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class TieRefused(TallyError):
    """A tie had to be broken but the election's tie-break refuses ties."""

    code = "tie"

    def __init__(self, projects: list[str], context: str) -> None:
        super().__init__(f"tie between projects {', '.join(projects)} ({context})")
        self.projects = projects


class UnknownRule(TallyError):
    """A rule name (or a Pabulib file's declared rule) that Veche does not implement."""

    code = "unknown_rule"


class PabulibError(TallyError):
    """A malformed Pabulib file; ``line`` is the 1-based line the problem is on (0: whole file)."""

    code = "bad_pabulib"

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"line {line}: {detail}" if line else detail)
        self.line = line
