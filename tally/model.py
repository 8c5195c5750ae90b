"""The tally's inputs and results as msgspec structs (the pure core's data; docs/architecture.md).

Money is an integer number of minor units; an election's ``unit`` says how many minor
units make one currency unit (the step by which the Method of Equal Shares raises each
voter's budget during its "add1" completion). Every value that is not an integer is a
fraction, written ``"p/q"`` (or ``"n"`` when whole) wherever a result is serialized, so an
``Outcome`` encodes to JSON with no floats and can be hashed canonically.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal, NewType

import msgspec

__all__ = [
    "ApprovalBallot",
    "Ballot",
    "BallotKind",
    "ChoiceBallot",
    "Comparison",
    "Completion",
    "CumulativeBallot",
    "Election",
    "OrdinalBallot",
    "Outcome",
    "Project",
    "ProjectId",
    "RuleConfig",
    "RuleName",
    "Satisfaction",
    "Step",
    "TieBreak",
    "frac_str",
    "parse_frac",
]

ProjectId = NewType("ProjectId", str)

BallotKind = Literal["approval", "cumulative", "ordinal", "choice"]
RuleName = Literal[
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "mes",
    "phragmen",
    "plurality",
    "approval",
    "borda",
]
Satisfaction = Literal["cost", "cardinality"]
Completion = Literal["none", "greedy", "add1", "add1-greedy"]
Comparison = Literal["none", "satisfaction", "exclusion"]
TieBreakMethod = Literal["cost-votes-lot", "order", "refuse"]


class Project(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A project on the ballot: its id, its cost in minor units and its title."""

    id: str
    cost: int
    name: str = ""


class Election(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a rule needs to know about an election besides the ballots.

    ``projects`` is in the election's fixed order (used by the "order" tie-break).
    The limits mirror the ballot kinds' limits (the ballot package checks ballots
    against them; rules do not re-validate); they are carried for Pabulib I/O.
    """

    projects: tuple[Project, ...]
    budget: int
    kind: BallotKind = "approval"
    unit: int = 1
    min_length: int | None = None
    max_length: int | None = None
    max_sum_cost: int | None = None
    max_sum_points: int | None = None


class ApprovalBallot(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="approval"):
    """``{"approve": [project ids]}``."""

    approve: tuple[str, ...] = ()


class CumulativeBallot(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="cumulative"):
    """``{"points": {project id: n}}``; a project with no entry has 0 points."""

    points: dict[str, int] = msgspec.field(default_factory=dict)


class OrdinalBallot(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="ordinal"):
    """``{"rank": [project ids, most preferred first]}``."""

    rank: tuple[str, ...] = ()


class ChoiceBallot(msgspec.Struct, frozen=True, forbid_unknown_fields=True, tag="choice"):
    """``{"choose": [option ids]}`` (a poll)."""

    choose: tuple[str, ...] = ()


Ballot = ApprovalBallot | CumulativeBallot | OrdinalBallot | ChoiceBallot


class TieBreak(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How a rule orders projects it cannot otherwise tell apart.

    - ``cost-votes-lot`` (default, as cities using the Method of Equal Shares do): lower
      cost first, then more votes, then the lot. The lot ranks each tied project by
      ``SHA-256(seed || project id as UTF-8)``, the smaller digest first; ``seed`` is
      ``lot_seed(secret, digest)`` for an election and SHA-256 of the file for a .pb file.
    - ``order``: the position in ``order`` (default: the election's project order).
    - ``refuse``: raise ``TieRefused`` whenever a tie would decide the result.
    """

    method: TieBreakMethod = "cost-votes-lot"
    seed: bytes = b""
    order: tuple[str, ...] = ()


class RuleConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Which rule to run, with its options and the tie-break.

    - ``satisfaction`` (MES): ``cost`` (a voter's utility is the cost of the funded projects
      they approve; points × cost for cumulative ballots) or ``cardinality`` (one per
      approved project; the points for cumulative ballots).
    - ``completion`` (MES): ``none``; ``greedy`` (fill the rest by votes); ``add1`` (raise
      every voter's budget one currency unit at a time while the result stays within the
      budget, stopping early once it is exhaustive); ``add1-greedy`` (``add1`` then greedy).
    - ``add1_start`` (MES): ``exact`` starts at budget / voters, ``integral`` at its floor.
    - ``add1_exhaustive_stop`` (MES): stop raising as soon as the result is exhaustive (no
      further project fits; pabutools and equalshares.net's default). When false, raising
      goes on until the next raise would overspend (Wieliczka 2023).
    - ``comparison`` (MES): ``satisfaction`` or ``exclusion`` keeps the greedy result instead
      if more voters prefer it (more approved winners; having some approved winner at all).
    - ``min_vote_share`` (MES, ``"p/q"``): a project approved by fewer voters than this share
      is not eligible. ``eligibility_ratio`` (``"p/q"``): a project is eligible only if its
      share of voters is at least this ratio times its share of the budget (Świecie: 1/3).
    - ``threshold`` (greedy-threshold): the minimum score a project needs to be eligible.
    - ``seats`` (polls): how many options win.
    """

    rule: RuleName = "greedy"
    satisfaction: Satisfaction = "cost"
    completion: Completion = "none"
    add1_start: Literal["exact", "integral"] = "exact"
    add1_exhaustive_stop: bool = True
    comparison: Comparison = "none"
    min_vote_share: str | None = None
    eligibility_ratio: str | None = None
    threshold: int = 0
    seats: int = 1
    tie_break: TieBreak = TieBreak()


class Step(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One step of a rule's trace, for a resident to read and a program to check.

    ``action`` is one of ``select``, ``skip``, ``ineligible``, ``unaffordable``, ``stop``,
    ``budget`` (MES per-voter budget), ``compare`` and ``note``. ``values`` holds the
    numbers behind ``text``: integers, or fractions as ``"p/q"`` strings.
    """

    round: int
    action: str
    text: str
    project: str | None = None
    values: dict[str, int | str] = msgspec.field(default_factory=dict)


class Outcome(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A rule's result: winners in selection order, money spent, per-project scores
    (approvals, points or Borda points) and a step-by-step trace."""

    rule: str
    winners: list[str]
    spent: int
    budget: int
    scores: dict[str, int]
    trace: list[Step]
    options: dict[str, str] = msgspec.field(default_factory=dict)


def frac_str(value: Fraction | int) -> str:
    """A fraction as ``"p/q"`` (``"n"`` when it is whole): the serialized form."""
    f = Fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def parse_frac(text: str) -> Fraction:
    """The inverse of ``frac_str``; refuses floats and anything but ``p/q`` or ``n``."""
    num, sep, den = text.partition("/")
    try:
        value = Fraction(int(num), int(den) if sep else 1)
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"not a fraction p/q: {text!r}") from exc
    return value
