"""The survey's own log entry kind (docs/protocol.md §19.5).

- ``survey.text_withheld`` -- ``{"election": hex, "question": id, "reason": str, "seq":
  n}``: a moderator withheld the free-text answer to question ``question`` of the
  counted ballot logged at ``seq`` of the survey ``election``, for ``reason`` (1 to 500
  characters, no control character, no surrounding white space; it says which rule the
  text broke, never who wrote it or who withheld it). The text stays in the sealed
  ballot, which anyone can open; the results page shows the reason instead of it.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

import msgspec

from audit.core.entry import Count

__all__ = [
    "SURVEY_KINDS",
    "SURVEY_TEXT_WITHHELD",
    "WITHHOLD_REASON_LENGTH",
    "SurveyTextWithheld",
    "reason_problem",
]

SURVEY_TEXT_WITHHELD = "survey.text_withheld"
WITHHOLD_REASON_LENGTH = 500

HashHex = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
QuestionId = Annotated[str, msgspec.Meta(pattern="^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=WITHHOLD_REASON_LENGTH)]


def reason_problem(reason: str) -> str | None:
    """Why ``reason`` cannot be a withholding's logged reason, or None."""
    if not reason or len(reason) > WITHHOLD_REASON_LENGTH:
        return f"the reason must be 1 to {WITHHOLD_REASON_LENGTH} characters"
    if reason != reason.strip():
        return "the reason may not start or end with white space"
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in reason):
        return "the reason may not contain control characters"
    return None


class SurveyTextWithheld(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A text answer withheld from the published texts, with the reason."""

    election: HashHex
    question: QuestionId
    reason: Reason
    seq: Count

    def __post_init__(self) -> None:
        problem = reason_problem(self.reason)
        if problem is not None:
            raise ValueError(problem)


SURVEY_KINDS: dict[str, type[msgspec.Struct]] = {SURVEY_TEXT_WITHHELD: SurveyTextWithheld}
