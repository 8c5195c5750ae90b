"""The rules Pabulib files declare in META ``rule``, and how Veche computes each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tally.errors import UnknownRule
from tally.model import RuleConfig, TieBreak
from tally.pabulib.file import PabulibFile

if TYPE_CHECKING:
    from tally.pabulib.counted import TallyFile

__all__ = ["DECLARED_RULES", "declared_config"]

# Pabulib's META "rule" values and how Veche computes them. The equalshares/add1 variants
# raise the per-voter budget until the next raise would overspend, without stopping early
# at an exhaustive result: that is how Wieliczka 2023 was computed (stopping early would
# fund 66 and 67 instead of 46) and it reproduces Assen 2024 and Świecie 2023 too.
DECLARED_RULES = {
    "greedy": "greedy by votes, skipping projects that do not fit",
    "greedy-no-skip": "greedy by votes, stopping at the first project that does not fit",
    "greedy-threshold": "greedy by votes among projects reaching min_project_score_threshold",
    "equalshares": "Method of Equal Shares (cost satisfaction), no completion",
    "equalshares/add1": "Method of Equal Shares (cost satisfaction), add1 completion",
    "equalshares/add1-comparison": (
        "Method of Equal Shares (cost satisfaction), add1 completion, then comparison "
        "with the greedy result by voter satisfaction"
    ),
}


def declared_config(pf: PabulibFile | TallyFile, tie_break: TieBreak | None = None) -> RuleConfig:
    """The ``RuleConfig`` for the rule the file declares in META; ``UnknownRule`` if the
    file declares none, ``unknown``, or a rule Veche does not implement."""
    rule = pf.declared_rule
    tb = tie_break or TieBreak()
    if rule not in DECLARED_RULES:
        raise UnknownRule(f"the file declares rule {rule!r}, which Veche does not implement")
    if rule.startswith("greedy"):
        threshold = 0
        if rule == "greedy-threshold":
            text = pf.meta.get("min_project_score_threshold", "")
            try:
                threshold = int(text)
            except ValueError:
                raise UnknownRule(
                    f"greedy-threshold needs an integer min_project_score_threshold, not {text!r}"
                ) from None
        return RuleConfig(rule=rule, threshold=threshold, tie_break=tb)  # type: ignore[arg-type]
    return RuleConfig(
        rule="mes",
        satisfaction="cost",
        completion="none" if rule == "equalshares" else "add1",
        add1_exhaustive_stop=False,
        comparison="satisfaction" if rule.endswith("-comparison") else "none",
        tie_break=tb,
    )
