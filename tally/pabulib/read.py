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

The VOTES section is nearly all of a large file, so it is read column by column: when
no field in it is quoted its rows are split with ``str.split`` (the ``csv`` module
otherwise), and each distinct vote is parsed once (real elections repeat the same votes
many times).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from itertools import repeat
from operator import and_, eq
from pathlib import Path

import msgspec

from tally.errors import PabulibError
from tally.model import (
    ApprovalBallot,
    Ballot,
    BallotKind,
    CumulativeBallot,
    Election,
    OrdinalBallot,
    Project,
)
from tally.pabulib.file import PabulibFile, PabulibWarning
from tally.pabulib.write import money_text

__all__ = ["read_pb"]

_VOTE_KINDS: dict[str, BallotKind] = {
    "approval": "approval",
    "choose-1": "approval",
    "cumulative": "cumulative",
    "scoring": "cumulative",
    "ordinal": "ordinal",
}
_TITLES = ("meta", "projects", "votes")
_MONEY = re.compile(r"^\s*(\d+)(?:[.,](\d*))?\s*$")
# In a block of unquoted rows: a line that is a section title, a line with no field,
# and whitespace around a field (which the reader strips). "[^\S\n]" is whitespace
# other than the line end.
_TITLE_LINE = re.compile(r"^[^\S\n]*(?:meta|projects|votes)(?:[^\S\n]*;)*[^\S\n]*$", re.I | re.M)
_EMPTY_LINE = re.compile(r"^(?:[^\S\n]*;)*[^\S\n]*$", re.M)
_PADDED = re.compile(r"[^\S\n];|;[^\S\n]|^[^\S\n]|[^\S\n]$", re.M)
_SEPARATOR_PADDING = re.compile(r"[^\S\n]*;[^\S\n]*")
_LINE_PADDING = re.compile(r"^[^\S\n]+|[^\S\n]+$", re.M)


class _Section(msgspec.Struct):
    """One section: its header and its rows, by column; ``lines[i]`` is row ``i``'s line."""

    title: str
    title_line: int
    header: list[str] = msgspec.field(default_factory=list)
    header_line: int = 0
    rows: list[list[str]] = msgspec.field(default_factory=list)
    lines: Sequence[int] = msgspec.field(default_factory=list)
    columns: list[Sequence[str]] = msgspec.field(default_factory=list)
    size: int = -1  # the number of rows, when they are only kept as columns

    def __len__(self) -> int:
        return self.size if self.size >= 0 else len(self.rows)

    def column(self, k: int) -> Sequence[str]:
        if not self.columns:
            self.columns = list(zip(*self.rows, strict=True)) or [() for _ in self.header]
        return self.columns[k]


def read_pb(source: bytes | str | Path) -> PabulibFile:
    """Parse a .pb file given as bytes or a path. Raises ``PabulibError`` (with the line
    number) on anything malformed, ``OSError`` if the path cannot be read."""
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PabulibError(data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
    sections = _sections(text)
    for title in _TITLES:
        if title not in sections:
            raise PabulibError(0, f"the file has no {title.upper()} section")
    meta = _meta(sections["meta"])
    vote_type = meta.get("vote_type", "")
    if vote_type not in _VOTE_KINDS:
        raise PabulibError(0, f"unsupported vote_type {vote_type!r}")
    kind = _VOTE_KINDS[vote_type]
    if "budget" not in meta:
        raise PabulibError(0, "META has no budget")
    return _election_file(meta, vote_type, kind, sections["projects"], sections["votes"])


# -- sections ------------------------------------------------------------------------


def _sections(text: str) -> dict[str, _Section]:
    """The file's sections, rows stripped, blank rows left out."""
    sections: dict[str, _Section] = {}
    current: _Section | None = None
    source = io.StringIO(text, newline="")  # read line by line: tell() is where it is
    reader = csv.reader(source, delimiter=";")
    start = 1
    try:
        for raw in reader:
            line, start = start, reader.line_num + 1
            row = [f.strip() for f in raw]
            if not row or all(not f for f in row):
                continue
            title = row[0].lower()
            if title in _TITLES and all(not f for f in row[1:]):
                if title in sections:
                    raise PabulibError(line, f"a second {title.upper()} section")
                current = sections[title] = _Section(title, line)
                if title == "votes" and _unquoted_rest(
                    current, text[source.tell() :], reader.line_num
                ):
                    break
                continue
            if current is None:
                raise PabulibError(line, "data before the META section")
            if not current.header_line:
                _set_header(current, row, line)
                continue
            if len(row) != len(current.header):
                raise PabulibError(
                    line, f"{len(row)} fields where the header has {len(current.header)}"
                )
            current.rows.append(row)
            assert isinstance(current.lines, list)
            current.lines.append(line)
    except csv.Error as exc:
        raise PabulibError(reader.line_num, f"bad CSV quoting: {exc}") from None
    return sections


def _set_header(section: _Section, row: list[str], line: int) -> None:
    section.header, section.header_line = row, line
    if section.title == "meta" and row[:2] != ["key", "value"]:
        raise PabulibError(line, "the META header must be key;value")
    needed = {"projects": ("project_id", "cost"), "votes": ("voter_id", "vote")}
    for col in needed.get(section.title, ()):
        if col not in row:
            raise PabulibError(line, f"the {section.title.upper()} header lacks {col}")


def _unquoted_rest(votes: _Section, block: str, done: int) -> bool:
    """Read the rest of the file into ``votes`` with ``str.split``, if that reads it as
    the ``csv`` module would: nothing quoted, no other section, no NUL, no lone ``\\r``.
    ``block`` is the rest of the file, after ``done`` lines. False (and nothing read)
    otherwise.

    No container is made per row: the rows are joined and split into one flat list of
    fields, and each column is a slice of it."""
    if '"' in block or "\0" in block:
        return False
    low = block.lower()
    if ("meta" in low or "projects" in low or "votes" in low) and _TITLE_LINE.search(block):
        return False
    if "\r" in block:
        block = block.replace("\r\n", "\n")
        if "\r" in block:
            return False
    if _padded(block):
        block = _LINE_PADDING.sub("", _SEPARATOR_PADDING.sub(";", block))
    rows = block.split("\n")
    if rows[-1] == "":
        rows.pop()  # the file's last line end
    first = done + 1  # the line of rows[0]
    lines_of: Sequence[int] = range(first, first + len(rows))
    if "" in rows or block.startswith(";") or "\n;" in block:
        keep = [i for i, r in enumerate(rows) if r.strip(";")]
        rows = [rows[i] for i in keep]
        lines_of = [first + i for i in keep]
    if not rows:
        return True
    header = rows[0].split(";")
    _set_header(votes, header, lines_of[0])
    data = rows[1:]
    width = len(header)
    if set(map(str.count, data, repeat(";"))) - {width - 1}:
        for i, row in enumerate(data):
            if row.count(";") != width - 1:
                count = row.count(";") + 1
                raise PabulibError(lines_of[i + 1], f"{count} fields where the header has {width}")
    fields = ";".join(data).split(";") if data else []
    votes.columns = [fields[k::width] for k in range(width)]
    votes.size = len(data)
    votes.lines = lines_of[1:]
    return True


def _padded(block: str) -> bool:
    """Whether a field in ``block`` (rows separated by ``\\n``) starts or ends with
    whitespace; substring searches first, which are fast, the regular expression only
    if the text has whitespace other than spaces."""
    if block.isascii() and not any(ws in block for ws in "\t\x0b\x0c\x1c\x1d\x1e\x1f"):
        return (
            "; " in block
            or " ;" in block
            or "\n " in block
            or " \n" in block
            or block.startswith(" ")
            or block.endswith(" ")
        )
    return _PADDED.search(block) is not None


def _meta(section: _Section) -> dict[str, str]:
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
    projects: _Section,
    votes: _Section,
) -> PabulibFile:
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
    budget = scaled[0]
    max_sum_cost = scaled[1] if "max_sum_cost" in meta else None
    costs = scaled[-len(projects.rows) :] if projects.rows else []

    ip = p_header.index("project_id")
    iname = p_header.index("name") if "name" in p_header else -1
    isel = p_header.index("selected") if "selected" in p_header else -1
    p_extra_idx = [k for k in range(len(p_header)) if k not in {ip, ic, iname}]
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

    ballots, warnings = _ballots(votes, kind, vote_type, ids)
    v_header = votes.header
    used_v = {v_header.index(c) for c in ("voter_id", "vote", "points") if c in v_header}
    v_extra_idx = [k for k in range(len(v_header)) if k not in used_v]
    if v_extra_idx:
        extra_columns = [votes.column(k) for k in v_extra_idx]
        vote_extra = [list(r) for r in zip(*extra_columns, strict=True)]
    else:
        vote_extra = []

    # Derived META values are kept in the form the writer uses, so write→read is exact.
    meta["budget"] = money_text(budget, 10**places)
    if max_sum_cost is not None:
        meta["max_sum_cost"] = money_text(max_sum_cost, 10**places)
    meta["num_projects"] = str(len(plist))
    meta["num_votes"] = str(len(ballots))
    limits: dict[str, int | None] = {}
    for key in ("min_length", "max_length", "max_sum_points"):
        limits[key] = _int(meta[key], 0, key) if meta.get(key) else None
    election = Election(
        projects=tuple(plist),
        budget=budget,
        kind=kind,
        unit=10**places,
        min_length=limits["min_length"],
        max_length=limits["max_length"],
        max_sum_cost=max_sum_cost,
        max_sum_points=limits["max_sum_points"],
    )
    return PabulibFile(
        election=election,
        ballots=ballots,
        voter_ids=list(votes.column(v_header.index("voter_id"))),
        vote_type=vote_type,
        meta=meta,
        project_columns=[p_header[k] for k in p_extra_idx],
        project_extra=[[row[k] for k in p_extra_idx] for row in projects.rows],
        vote_columns=[v_header[k] for k in v_extra_idx],
        vote_extra=vote_extra,
        selected=selected,
        warnings=warnings,
    )


# -- votes ---------------------------------------------------------------------------


class _Vote(msgspec.Struct):
    """One distinct vote (the vote field, with the points field for points ballots): the
    ballot it is, or the error it is (``error``), and the projects it names twice."""

    ballot: Ballot | None = None
    error: str = ""
    repeated: list[str] = msgspec.field(default_factory=list)


def _ballots(
    votes: _Section, kind: BallotKind, vote_type: str, ids: set[str]
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
