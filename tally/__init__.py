"""Voting rules as pure functions in exact arithmetic, and Pabulib I/O.

The pure core, the bottom layer of Veche (docs/architecture.md): it imports only the
standard library and msgspec (gmpy2, when installed, only speeds up exact fractions).
``compute(election, ballots, RuleConfig(...))`` runs any rule; each rule returns an
``Outcome``: winners in selection order, money spent, per-project scores and a trace that
explains every step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tally.compute import compute, compute_profile
from tally.errors import PabulibError, TallyError, TieRefused, UnknownRule
from tally.greedy import greedy, project_scores
from tally.mes import equal_shares
from tally.model import (
    ApprovalBallot,
    Ballot,
    BallotKind,
    ChoiceBallot,
    CumulativeBallot,
    Election,
    OrdinalBallot,
    Outcome,
    Project,
    ProjectId,
    RuleConfig,
    RuleName,
    Step,
    TieBreak,
    frac_str,
    parse_frac,
)
from tally.pabulib import (
    DECLARED_RULES,
    PabulibFile,
    PabulibWarning,
    declared_config,
    file_seed,
    read_pb,
)
from tally.profile import Profile, build_profile
from tally.tiebreak import Ties, lot_digest, lot_seed

if TYPE_CHECKING:
    from tally.pabulib.write import write_pb
    from tally.polls import poll
    from tally.seq_phragmen import phragmen

__all__ = [
    "DECLARED_RULES",
    "ApprovalBallot",
    "Ballot",
    "BallotKind",
    "ChoiceBallot",
    "CumulativeBallot",
    "Election",
    "OrdinalBallot",
    "Outcome",
    "PabulibError",
    "PabulibFile",
    "PabulibWarning",
    "Profile",
    "Project",
    "ProjectId",
    "RuleConfig",
    "RuleName",
    "Step",
    "TallyError",
    "TieBreak",
    "TieRefused",
    "Ties",
    "UnknownRule",
    "build_profile",
    "compute",
    "compute_profile",
    "declared_config",
    "equal_shares",
    "file_seed",
    "frac_str",
    "greedy",
    "lot_digest",
    "lot_seed",
    "parse_frac",
    "phragmen",
    "poll",
    "project_scores",
    "read_pb",
    "write_pb",
]


def __getattr__(name: str) -> Any:
    # Sequential Phragmén, the polls and the Pabulib writer are loaded when first asked
    # for (``veche tally`` rarely needs them); the module of sequential Phragmén is not
    # named ``phragmen``, so that importing it cannot hide the function of that name.
    value: Any
    if name == "phragmen":
        from tally.seq_phragmen import phragmen as value
    elif name == "poll":
        from tally.polls import poll as value
    elif name == "write_pb":
        from tally.pabulib.write import write_pb as value
    else:
        raise AttributeError(f"module 'tally' has no attribute {name!r}")
    globals()[name] = value
    return value
