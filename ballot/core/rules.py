"""Counting rules as they are configured: the ``rule`` object of a configuration.

docs/protocol.md §5.5 (rules and options) and §19.1 (the ``survey`` rule). Each rule is a
msgspec struct tagged by ``name``; an option exists only on the rules it applies to.
Kept apart from ``ballot.core.config`` so that a survey's budget question
(``ballot.core.survey``) can name a budgeting rule too.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from audit.core.canonical import MAX_SAFE_INTEGER

__all__ = [
    "ApprovalPollRule",
    "BordaRule",
    "BudgetRule",
    "GreedyNoSkipRule",
    "GreedyRule",
    "GreedyThresholdRule",
    "MesRule",
    "PhragmenRule",
    "PluralityRule",
    "Rule",
    "SafeInt",
    "SurveyRule",
]

SafeInt = Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INTEGER, le=MAX_SAFE_INTEGER)]


class GreedyRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="greedy",
):  # fmt: skip
    """Utilitarian greedy: most votes first, skipping what no longer fits."""


class GreedyNoSkipRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="greedy-no-skip",
):  # fmt: skip
    """Greedy that stops at the first project that does not fit."""


class GreedyThresholdRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="greedy-threshold",
):  # fmt: skip
    """Greedy over the projects whose score reaches ``threshold``."""

    threshold: SafeInt


class MesRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="mes",
):  # fmt: skip
    """The Method of Equal Shares with its options (see ``tally``)."""

    satisfaction: Literal["cost", "cardinality"] = "cost"
    completion: Literal["none", "greedy", "add1", "add1-greedy"] = "none"
    comparison: Literal["none", "satisfaction", "exclusion"] = "none"
    min_vote_share: SafeInt | None = None


class PhragmenRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="phragmen",
):  # fmt: skip
    """Sequential Phragmén."""


class PluralityRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="plurality",
):  # fmt: skip
    """Poll: one vote per ballot; the ``seats`` options with most votes win."""

    seats: SafeInt = 1


class ApprovalPollRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="approval",
):  # fmt: skip
    """Poll: one vote per chosen option; the ``seats`` options with most votes win."""

    seats: SafeInt = 1


class BordaRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="borda",
):  # fmt: skip
    """Poll on ordinal ballots: Borda points; the ``seats`` best options win."""

    seats: SafeInt = 1


class SurveyRule(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
    tag_field="name", tag="survey",
):  # fmt: skip
    """A survey (docs/protocol.md §19): each question is counted by its kind; a budget
    question by the budgeting rule it names."""


# The rules a survey's budget question may name (docs/protocol.md §19.1).
BudgetRule = GreedyRule | GreedyNoSkipRule | GreedyThresholdRule | MesRule | PhragmenRule

Rule = (
    GreedyRule
    | GreedyNoSkipRule
    | GreedyThresholdRule
    | MesRule
    | PhragmenRule
    | PluralityRule
    | ApprovalPollRule
    | BordaRule
    | SurveyRule
)
