"""Voting rules as pure functions in exact arithmetic, and Pabulib I/O.

The pure core, the bottom layer of Veche (docs/architecture.md): it imports only the
standard library and msgspec (gmpy2, when installed, only speeds up exact fractions).
``compute(election, ballots, RuleConfig(...))`` runs any rule; each rule returns an
``Outcome``: winners in selection order, money spent, per-project scores and a trace that
explains every step.
"""

from __future__ import annotations

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
    write_pb,
)
from tally.phragmen import phragmen
from tally.polls import poll
from tally.profile import Profile, build_profile
from tally.tiebreak import Ties, lot_digest, lot_seed

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
