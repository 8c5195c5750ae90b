"""One entry point for every rule: ``compute(election, ballots, config) -> Outcome``."""

from __future__ import annotations

from collections.abc import Sequence

from tally.errors import TallyError, UnknownRule
from tally.greedy import greedy
from tally.mes import equal_shares
from tally.model import Ballot, Election, Outcome, RuleConfig
from tally.profile import Profile, build_profile
from tally.tiebreak import Ties

__all__ = ["compute", "compute_profile"]


def compute(election: Election, ballots: Sequence[Ballot], config: RuleConfig) -> Outcome:
    """Run ``config.rule`` on the ballots. Pure and deterministic: the same inputs give
    the same ``Outcome`` (the lot is drawn from ``config.tie_break.seed``)."""
    return compute_profile(election, build_profile(election, ballots), config)


def compute_profile(election: Election, prof: Profile, config: RuleConfig) -> Outcome:
    """``compute`` on ballots already grouped by ``build_profile``."""
    ties = Ties(election.projects, _tie_votes(election, prof), config.tie_break)
    rule = config.rule
    if rule in ("greedy", "greedy-no-skip", "greedy-threshold"):
        return greedy(election, prof, config, ties)
    if rule == "mes":
        return equal_shares(election, prof, config, ties)
    if rule == "phragmen":
        if election.kind not in ("approval", "choice"):
            raise TallyError("sequential Phragmén needs approval or choice ballots")
        from tally.seq_phragmen import phragmen  # each of these only when it runs

        return phragmen(election, prof, config, ties)
    if rule in ("plurality", "approval", "borda"):
        from tally.polls import poll

        return poll(election, prof, config, ties)
    raise UnknownRule(f"unknown rule {rule!r}")  # pragma: no cover - RuleConfig validates


def _tie_votes(election: Election, prof: Profile) -> list[int]:
    # "more votes" in the tie-break: supporters for approval and choice ballots, points
    # for cumulative ballots, voters who ranked the project for ordinal ballots.
    return list(prof.points if election.kind == "cumulative" else prof.votes)
