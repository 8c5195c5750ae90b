"""Reading and writing Pabulib ``.pb`` files (the format of pabulib.org).

A file has three sections, each a title line (``META``, ``PROJECTS``, ``VOTES``), a
header line and ``;``-separated rows with CSV quoting. Supported vote types: ``approval``,
``choose-1``, ``cumulative``, ``scoring`` (points, read as cumulative ballots) and
``ordinal``. Quirks of real files handled here: a UTF-8 byte-order mark, ``\\r\\n`` line
ends, quoted fields, blank lines, spaces around fields, and money written with decimals
(``4000.0``) or a decimal comma (``4000,50``). Money becomes integer minor units: if any
amount has ``d`` decimals, every amount is scaled by ``10**d`` and ``Election.unit`` is
``10**d``. Every error is a ``PabulibError`` naming the line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path

import msgspec

from tally.errors import PabulibError, UnknownRule
from tally.model import (
    ApprovalBallot,
    Ballot,
    BallotKind,
    CumulativeBallot,
    Election,
    OrdinalBallot,
    Project,
    RuleConfig,
    TieBreak,
)

__all__ = ["DECLARED_RULES", "PabulibFile", "declared_config", "file_seed", "read_pb", "write_pb"]

_VOTE_KINDS: dict[str, BallotKind] = {
    "approval": "approval",
    "choose-1": "approval",
    "cumulative": "cumulative",
    "scoring": "cumulative",
    "ordinal": "ordinal",
}
_MONEY = re.compile(r"^\s*(\d+)(?:[.,](\d*))?\s*$")
_LIMITS = ("min_length", "max_length", "max_sum_cost", "max_sum_points")


class PabulibFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A parsed ``.pb`` file: the election and ballots a rule needs, plus everything else
    the file says (kept as text) so that writing it back loses nothing.

    ``meta`` holds every META entry as written; ``project_columns``/``project_extra`` and
    ``vote_columns``/``vote_extra`` hold the columns other than the ones the tally uses.
    ``selected`` lists the projects whose ``selected`` column is ``1``, in file order
    (``None`` when there is no such column).
    """

    election: Election
    ballots: list[Ballot]
    voter_ids: list[str]
    vote_type: str
    meta: dict[str, str]
    project_columns: list[str] = msgspec.field(default_factory=list)
    project_extra: list[list[str]] = msgspec.field(default_factory=list)
    vote_columns: list[str] = msgspec.field(default_factory=list)
    vote_extra: list[list[str]] = msgspec.field(default_factory=list)
    selected: list[str] | None = None

    @property
    def declared_rule(self) -> str:
        return self.meta.get("rule", "")


def file_seed(data: bytes) -> bytes:
    """The lot's seed for a .pb file: SHA-256 of the file's bytes."""
    return hashlib.sha256(data).digest()


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    start = 1
    try:
        for row in reader:
            yield start, [f.strip() for f in row]
            start = reader.line_num + 1
    except csv.Error as exc:
        raise PabulibError(reader.line_num, f"bad CSV quoting: {exc}") from None


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

    section = ""
    header: list[str] | None = None
    meta: dict[str, str] = {}
    projects: list[tuple[int, list[str]]] = []
    votes: list[tuple[int, list[str]]] = []
    p_header: list[str] = []
    v_header: list[str] = []
    seen: set[str] = set()
    for line, row in _rows(text):
        if not row or all(not f for f in row):
            continue
        title = row[0].lower()
        if title in ("meta", "projects", "votes") and all(not f for f in row[1:]):
            if title in seen:
                raise PabulibError(line, f"a second {title.upper()} section")
            seen.add(title)
            section, header = title, None
            continue
        if not section:
            raise PabulibError(line, "data before the META section")
        if header is None:
            header = row
            if section == "meta" and row[:2] != ["key", "value"]:
                raise PabulibError(line, "the META header must be key;value")
            if section == "projects":
                p_header = row
                for col in ("project_id", "cost"):
                    if col not in row:
                        raise PabulibError(line, f"the PROJECTS header lacks {col}")
            if section == "votes":
                v_header = row
                for col in ("voter_id", "vote"):
                    if col not in row:
                        raise PabulibError(line, f"the VOTES header lacks {col}")
            continue
        if len(row) != len(header):
            raise PabulibError(line, f"{len(row)} fields where the header has {len(header)}")
        if section == "meta":
            if row[0] in meta:
                raise PabulibError(line, f"META key {row[0]!r} given twice")
            meta[row[0]] = row[1]
        elif section == "projects":
            projects.append((line, row))
        else:
            votes.append((line, row))
    for title in ("meta", "projects", "votes"):
        if title not in seen:
            raise PabulibError(0, f"the file has no {title.upper()} section")

    vote_type = meta.get("vote_type", "")
    if vote_type not in _VOTE_KINDS:
        raise PabulibError(0, f"unsupported vote_type {vote_type!r}")
    kind = _VOTE_KINDS[vote_type]
    if "budget" not in meta:
        raise PabulibError(0, "META has no budget")

    # Money: find the largest number of decimals, then scale everything by it.
    amounts: list[tuple[int, str, str]] = []  # (line, text, what)
    meta_line = 0
    ic = p_header.index("cost")
    amounts.append((meta_line, meta["budget"], "budget"))
    if "max_sum_cost" in meta:
        amounts.append((meta_line, meta["max_sum_cost"], "max_sum_cost"))
    for line, row in projects:
        amounts.append((line, row[ic], "cost"))
    parsed = [(_decimals(t, ln, w), ln) for ln, t, w in amounts]
    places = max(d for (d, _), _ in parsed)
    scaled = [int(digits) * 10 ** (places - d) for (d, digits), _ in parsed]
    budget = scaled[0]
    max_sum_cost = scaled[1] if "max_sum_cost" in meta else None
    costs = scaled[-len(projects) :] if projects else []

    ip = p_header.index("project_id")
    iname = p_header.index("name") if "name" in p_header else -1
    isel = p_header.index("selected") if "selected" in p_header else -1
    used_p = {ip, ic, iname}
    p_extra_idx = [k for k in range(len(p_header)) if k not in used_p]
    plist: list[Project] = []
    ids: set[str] = set()
    selected: list[str] | None = [] if isel >= 0 else None
    for (line, row), cost in zip(projects, costs, strict=True):
        pid = row[ip]
        if not pid:
            raise PabulibError(line, "empty project_id")
        if pid in ids:
            raise PabulibError(line, f"project {pid!r} listed twice")
        ids.add(pid)
        plist.append(Project(pid, cost, row[iname] if iname >= 0 else ""))
        if selected is not None and row[isel] == "1":
            selected.append(pid)

    iv = v_header.index("voter_id")
    ivote = v_header.index("vote")
    ipts = v_header.index("points") if "points" in v_header else -1
    if kind == "cumulative" and ipts < 0:
        raise PabulibError(0, f"a {vote_type} file needs a points column in VOTES")
    used_v = {iv, ivote, ipts}
    v_extra_idx = [k for k in range(len(v_header)) if k not in used_v]
    ballots: list[Ballot] = []
    voter_ids: list[str] = []
    vseen: set[str] = set()
    for line, row in votes:
        vid = row[iv]
        if vid in vseen:
            raise PabulibError(line, f"voter {vid!r} listed twice")
        vseen.add(vid)
        voter_ids.append(vid)
        chosen = [p.strip() for p in row[ivote].split(",")] if row[ivote] else []
        for pid in chosen:
            if pid not in ids:
                raise PabulibError(line, f"vote for unknown project {pid!r}")
        if len(set(chosen)) != len(chosen):
            raise PabulibError(line, "a project appears twice in one vote")
        if kind == "approval":
            ballots.append(ApprovalBallot(tuple(chosen)))
        elif kind == "ordinal":
            ballots.append(OrdinalBallot(tuple(chosen)))
        else:
            pts = [p.strip() for p in row[ipts].split(",")] if row[ipts] else []
            if len(pts) != len(chosen):
                raise PabulibError(line, "vote and points have different lengths")
            values = [_int(p, line, "points") for p in pts]
            if any(v < 0 for v in values):
                raise PabulibError(line, "negative points")
            ballots.append(CumulativeBallot(dict(zip(chosen, values, strict=True))))

    # Derived META values are kept in the form the writer uses, so write→read is exact.
    meta["budget"] = _money(budget, 10**places)
    if max_sum_cost is not None:
        meta["max_sum_cost"] = _money(max_sum_cost, 10**places)
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
        voter_ids=voter_ids,
        vote_type=vote_type,
        meta=meta,
        project_columns=[p_header[k] for k in p_extra_idx],
        project_extra=[[row[k] for k in p_extra_idx] for _, row in projects],
        vote_columns=[v_header[k] for k in v_extra_idx],
        vote_extra=[[row[k] for k in v_extra_idx] for _, row in votes],
        selected=selected,
    )


def _money(amount: int, unit: int) -> str:
    places = len(str(unit)) - 1
    if unit != 10**places:
        raise ValueError(f"the election's unit {unit} is not a power of ten")
    if places == 0:
        return str(amount)
    whole, part = divmod(amount, unit)
    return f"{whole}.{part:0{places}d}"


def write_pb(pf: PabulibFile) -> bytes:
    """The file as UTF-8 bytes (no byte-order mark, ``\\n`` line ends). META keys that
    the election determines (budget, counts, vote type, limits) are written from it."""
    e = pf.election
    meta = dict(pf.meta)
    meta["budget"] = _money(e.budget, e.unit)
    meta["num_projects"] = str(len(e.projects))
    meta["num_votes"] = str(len(pf.ballots))
    meta["vote_type"] = pf.vote_type
    for key in _LIMITS:
        value = getattr(e, key)
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = _money(value, e.unit) if key == "max_sum_cost" else str(value)
    out = io.StringIO(newline="")
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(["META"])
    w.writerow(["key", "value"])
    for key, value_text in meta.items():
        w.writerow([key, value_text])
    w.writerow(["PROJECTS"])
    w.writerow(["project_id", "cost", "name", *pf.project_columns])
    for k, p in enumerate(e.projects):
        extra = pf.project_extra[k] if pf.project_extra else [""] * len(pf.project_columns)
        w.writerow([p.id, _money(p.cost, e.unit), p.name, *extra])
    w.writerow(["VOTES"])
    cumulative = e.kind == "cumulative"
    w.writerow(["voter_id", "vote", *(["points"] if cumulative else []), *pf.vote_columns])
    for k, (vid, b) in enumerate(zip(pf.voter_ids, pf.ballots, strict=True)):
        extra = pf.vote_extra[k] if pf.vote_extra else [""] * len(pf.vote_columns)
        if isinstance(b, CumulativeBallot):
            row = [vid, ",".join(b.points), ",".join(map(str, b.points.values()))]
        elif isinstance(b, OrdinalBallot):
            row = [vid, ",".join(b.rank)]
        elif isinstance(b, ApprovalBallot):
            row = [vid, ",".join(b.approve)]
        else:
            row = [vid, ",".join(b.choose)]
        w.writerow([*row, *extra])
    return out.getvalue().encode("utf-8")


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


def declared_config(pf: PabulibFile, tie_break: TieBreak | None = None) -> RuleConfig:
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
