"""The ballots of a Pabulib file's VOTES section: each distinct vote parsed once (real
elections repeat the same votes many times), a repeated project counted once with a
warning naming the line."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import and_, eq

import msgspec

from tally.errors import PabulibError
from tally.model import ApprovalBallot, Ballot, BallotKind, CumulativeBallot, OrdinalBallot
from tally.pabulib.file import PabulibWarning
from tally.pabulib.sections import Section

__all__ = ["read_ballots"]


class _Vote(msgspec.Struct):
    """One distinct vote (the vote field, with the points field for points ballots): the
    ballot it is, or the error it is (``error``), and the projects it names twice."""

    ballot: Ballot | None = None
    error: str = ""
    repeated: list[str] = msgspec.field(default_factory=list)


def read_ballots(
    votes: Section, kind: BallotKind, vote_type: str, ids: set[str]
) -> tuple[list[Ballot], list[PabulibWarning]]:
    """The ballots, one per row, and the warnings; the first malformed row (in file
    order, then in the order of the checks: voter id, then vote) raises."""
    header = votes.header
    voter_ids = votes.column(header.index("voter_id"))
    vote_texts = votes.column(header.index("vote"))
    keys: Sequence[str | tuple[str, str]] = vote_texts
    if kind == "cumulative":
        if "points" not in header:
            raise PabulibError(0, f"a {vote_type} file needs a points column in VOTES")
        keys = list(zip(vote_texts, votes.column(header.index("points")), strict=True))
    by_key, problems = _distinct_votes(keys, kind, ids)
    failures: list[tuple[int, int, str]] = []  # (row, check, detail)
    if len(set(voter_ids)) != len(voter_ids):
        seen: set[str] = set()
        for i, vid in enumerate(voter_ids):
            if vid in seen:
                failures.append((i, 0, f"voter {vid!r} listed twice"))
                break
            seen.add(vid)
    if any(v.error for v in problems.values()):
        i = next(i for i, key in enumerate(keys) if key in problems and problems[key].error)
        failures.append((i, 1, problems[keys[i]].error))
    if failures:
        i, _, detail = min(failures)
        raise PabulibError(votes.lines[i], detail)
    warnings: list[PabulibWarning] = []
    if problems:  # votes that name a project twice
        for i, key in enumerate(keys):
            if key in problems:
                twice = problems[key].repeated
                names = ", ".join(repr(p) for p in twice)
                what = "project" if len(twice) == 1 else "projects"
                detail = (
                    f"the vote of voter {voter_ids[i]!r} names {what} {names} more than "
                    "once; each counts once"
                )
                warnings.append(PabulibWarning(votes.lines[i], "repeated_project", detail))
    ballots = list(map(by_key.__getitem__, keys))
    if kind == "cumulative":
        # a ballot's points are a dict: every voter gets their own
        ballots = [CumulativeBallot(dict(b.points)) for b in ballots]  # type: ignore[union-attr]
    return ballots, warnings


def _distinct_votes(
    keys: Sequence[str | tuple[str, str]], kind: BallotKind, ids: set[str]
) -> tuple[dict[str | tuple[str, str], Ballot], dict[str | tuple[str, str], _Vote]]:
    """Each distinct vote parsed once: the ballots, and the votes with a problem (an
    error, or a project named twice)."""
    ballots: dict[str | tuple[str, str], Ballot] = {}
    problems: dict[str | tuple[str, str], _Vote] = {}
    if kind == "approval":
        # The common case, kept fast (each step a map over all the votes): a vote whose
        # comma-separated ids are all projects, each once, as written (a project id never
        # starts or ends with a space), is a ballot of those ids; the others (an empty
        # vote among them) are parsed one by one.
        texts: list[str] = list(set(keys))  # type: ignore[arg-type]
        chosen = list(map(tuple, map(str.split, texts, repeat(","))))
        fine = map(
            and_, map(ids.issuperset, chosen), map(eq, map(len, map(set, chosen)), map(len, chosen))
        )
        for text, ok, ballot in zip(texts, fine, map(ApprovalBallot, chosen), strict=True):
            if ok:
                ballots[text] = ballot
            else:
                problems[text] = _vote(text, kind, ids)
    else:
        for key in set(keys):
            problems[key] = _vote(key, kind, ids)
    for key, vote in list(problems.items()):
        if vote.ballot is not None:
            ballots[key] = vote.ballot
            if not vote.repeated:
                del problems[key]
    return ballots, problems


def _vote(key: str | tuple[str, str], kind: BallotKind, ids: set[str]) -> _Vote:
    vote, points = key if isinstance(key, tuple) else (key, "")
    chosen = [p.strip() for p in vote.split(",")] if vote else []
    for pid in chosen:
        if pid not in ids:
            return _Vote(error=f"vote for unknown project {pid!r}")
    out = _Vote()
    first = list(dict.fromkeys(chosen))
    if len(first) != len(chosen):
        out.repeated = [p for p in first if chosen.count(p) > 1]
    if kind == "approval":
        out.ballot = ApprovalBallot(tuple(first))
    elif kind == "ordinal":
        out.ballot = OrdinalBallot(tuple(first))
    else:
        pts = [p.strip() for p in points.split(",")] if points else []
        if len(pts) != len(chosen):
            return _Vote(error="vote and points have different lengths")
        values: list[int] = []
        for p in pts:
            try:
                values.append(int(p))
            except ValueError:
                return _Vote(error=f"points is not an integer: {p!r}")
        if any(v < 0 for v in values):
            return _Vote(error="negative points")
        given: dict[str, int] = {}
        for pid, v in zip(chosen, values, strict=True):
            given.setdefault(pid, v)  # a repeated project keeps its first points
        out.ballot = CumulativeBallot(given)
    return out
