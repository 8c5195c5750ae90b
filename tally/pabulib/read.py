"""Reading Pabulib ``.pb`` files (the format of pabulib.org).

A file has three sections, each a title line (``META``, ``PROJECTS``, ``VOTES``), a
header line and ``;``-separated rows with CSV quoting. Supported vote types: ``approval``,
``choose-1``, ``cumulative``, ``scoring`` (points, read as cumulative ballots) and
``ordinal``. Quirks of real files handled here: a UTF-8 byte-order mark, ``\\r\\n`` line
ends, quoted fields, blank lines, spaces around fields, money written with decimals
(``4000.0``) or a decimal comma (``4000,50``), and votes that name a project twice (it
counts once, with a ``PabulibWarning`` naming the line). Money becomes integer minor
units: if any amount has ``d`` decimals, every amount is scaled by ``10**d`` and
``Election.unit`` is ``10**d``. Every error is a ``PabulibError`` naming the line.

The text is cut into sections by ``sections``; the ballots are read by ``votes``.
"""

from __future__ import annotations

import re
from os import PathLike
from typing import TYPE_CHECKING

from tally.errors import PabulibError
from tally.model import BallotKind, Election, Project
from tally.pabulib.file import PabulibFile, money_text
from tally.pabulib.sections import TITLES, Section, sections

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["read_pb"]

_VOTE_KINDS: dict[str, BallotKind] = {
    "approval": "approval",
    "choose-1": "approval",
    "cumulative": "cumulative",
    "scoring": "cumulative",
    "ordinal": "ordinal",
}
_MONEY = re.compile(r"^\s*(\d+)(?:[.,](\d*))?\s*$")


def read_pb(source: bytes | str | Path) -> PabulibFile:
    """Parse a .pb file given as bytes or a path. Raises ``PabulibError`` (with the line
    number) on anything malformed, ``OSError`` if the path cannot be read."""
    if isinstance(source, str | PathLike):
        with open(source, "rb") as f:  # (not pathlib: the tally does not load it)
            source = f.read()
    data = source
    return _election_file(*parsed_sections(data))


def parsed_sections(data: bytes) -> tuple[dict[str, str], str, BallotKind, Section, Section]:
    """The file's META (as a dict), vote type, ballot kind and its PROJECTS and VOTES
    sections; ``PabulibError`` for what makes the file unreadable before its rows."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PabulibError(data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
    parts = sections(text)
    for title in TITLES:
        if title not in parts:
            raise PabulibError(0, f"the file has no {title.upper()} section")
    meta = _meta(parts["meta"])
    vote_type = meta.get("vote_type", "")
    if vote_type not in _VOTE_KINDS:
        raise PabulibError(0, f"unsupported vote_type {vote_type!r}")
    kind = _VOTE_KINDS[vote_type]
    if "budget" not in meta:
        raise PabulibError(0, "META has no budget")
    return meta, vote_type, kind, parts["projects"], parts["votes"]


def _meta(section: Section) -> dict[str, str]:
    meta: dict[str, str] = {}
    for line, row in zip(section.lines, section.rows, strict=True):
        if row[0] in meta:
            raise PabulibError(line, f"META key {row[0]!r} given twice")
        meta[row[0]] = row[1]
    return meta


def _decimals(text: str, line: int, what: str) -> tuple[int, str]:
    m = _MONEY.match(text)
    if not m:
        raise PabulibError(line, f"{what} is not a non-negative number: {text!r}")
    return len(m.group(2) or ""), m.group(1) + (m.group(2) or "")


def _int(text: str, line: int, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise PabulibError(line, f"{what} is not an integer: {text!r}") from None


# -- the election --------------------------------------------------------------------


def _election_file(
    meta: dict[str, str],
    vote_type: str,
    kind: BallotKind,
    projects: Section,
    votes: Section,
) -> PabulibFile:
    from tally.pabulib.votes import read_ballots  # not needed by read_for_tally's way

    plist, ids, selected, places, money = project_list(meta, projects)
    ballots, warnings = read_ballots(votes, kind, vote_type, ids)
    v_header = votes.header
    used_v = {v_header.index(c) for c in ("voter_id", "vote", "points") if c in v_header}
    v_extra_idx = [k for k in range(len(v_header)) if k not in used_v]
    if v_extra_idx:
        extra_columns = [votes.column(k) for k in v_extra_idx]
        vote_extra = list(zip(*extra_columns, strict=True))
    else:
        vote_extra = []
    election = election_of(meta, kind, plist, places, money, len(ballots))
    p_header = projects.header
    used_p = {p_header.index(c) for c in ("project_id", "cost", "name") if c in p_header}
    p_extra_idx = [k for k in range(len(p_header)) if k not in used_p]
    return PabulibFile(
        election=election,
        ballots=ballots,
        voter_ids=list(votes.column(v_header.index("voter_id"))),
        vote_type=vote_type,
        meta=meta,
        project_columns=[p_header[k] for k in p_extra_idx],
        project_extra=[tuple([row[k] for k in p_extra_idx]) for row in projects.rows],
        vote_columns=[v_header[k] for k in v_extra_idx],
        vote_extra=vote_extra,
        selected=selected,
        warnings=warnings,
    )


def project_list(
    meta: dict[str, str], projects: Section
) -> tuple[list[Project], set[str], list[str] | None, int, tuple[int, int | None]]:
    """The projects, their ids, the selected ones (``None`` without the column), the
    decimals money is written with, and the budget and ``max_sum_cost`` (or ``None``) in
    minor units."""
    p_header = projects.header
    # Money: find the largest number of decimals, then scale everything by it.
    ic = p_header.index("cost")
    amounts: list[tuple[int, str, str]] = [(0, meta["budget"], "budget")]  # (line, text, what)
    if "max_sum_cost" in meta:
        amounts.append((0, meta["max_sum_cost"], "max_sum_cost"))
    for line, row in zip(projects.lines, projects.rows, strict=True):
        amounts.append((line, row[ic], "cost"))
    parsed = [_decimals(t, ln, w) for ln, t, w in amounts]
    places = max(d for d, _ in parsed)
    scaled = [int(digits) * 10 ** (places - d) for d, digits in parsed]
    max_sum_cost = scaled[1] if "max_sum_cost" in meta else None
    costs = scaled[-len(projects.rows) :] if projects.rows else []

    ip = p_header.index("project_id")
    iname = p_header.index("name") if "name" in p_header else -1
    isel = p_header.index("selected") if "selected" in p_header else -1
    plist: list[Project] = []
    ids: set[str] = set()
    selected: list[str] | None = [] if isel >= 0 else None
    for line, row, cost in zip(projects.lines, projects.rows, costs, strict=True):
        pid = row[ip]
        if not pid:
            raise PabulibError(line, "empty project_id")
        if pid in ids:
            raise PabulibError(line, f"project {pid!r} listed twice")
        ids.add(pid)
        plist.append(Project(pid, cost, row[iname] if iname >= 0 else ""))
        if selected is not None and row[isel] == "1":
            selected.append(pid)
    return plist, ids, selected, places, (scaled[0], max_sum_cost)


def election_of(
    meta: dict[str, str],
    kind: BallotKind,
    plist: list[Project],
    places: int,
    money: tuple[int, int | None],
    n_votes: int,
) -> Election:
    """The election (``money``: the budget and ``max_sum_cost`` in minor units); META's
    derived values are set in the form the writer uses, so that write→read is exact."""
    budget, max_sum_cost = money
    meta["budget"] = money_text(budget, 10**places)
    if max_sum_cost is not None:
        meta["max_sum_cost"] = money_text(max_sum_cost, 10**places)
    meta["num_projects"] = str(len(plist))
    meta["num_votes"] = str(n_votes)
    limits: dict[str, int | None] = {}
    for key in ("min_length", "max_length", "max_sum_points"):
        limits[key] = _int(meta[key], 0, key) if meta.get(key) else None
    return Election(
        projects=tuple(plist),
        budget=budget,
        kind=kind,
        unit=10**places,
        min_length=limits["min_length"],
        max_length=limits["max_length"],
        max_sum_cost=max_sum_cost,
        max_sum_points=limits["max_sum_points"],
    )
