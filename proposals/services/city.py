"""City-wide figures for staff: participation over time and by district, review times,
co-funding raised against what is required.

Every figure is a count or a sum of integers read from the tables (money in minor
units); times of credentials and ballots are the public ``at`` of their log entries.
The timeline counts by local day (``YYYY-MM-DD`` in the municipality's time zone, the
setting ``time_zone``) while it spans at most ``DAILY_SPAN`` days, by calendar month
(``YYYY-MM``) after that. Percentiles are nearest-rank: the ``p``-th percentile of ``n``
sorted values is the value at rank ``ceil(p × n / 100)``, so every figure is one of the
measured values, with no interpolation.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services.models import LogEntry
from ballot.services.models import CastBallot, CredentialIssuance, Election
from kernel.accounts.models import District, User
from kernel.markers import N_
from proposals.core.lifecycle import PUBLIC
from proposals.services.funding import required_pledges
from proposals.services.models import Pledge, Program, Proposal, StatusChange, Support

__all__ = ["CityFigures", "Table", "city_figures", "nearest_rank"]

SERIES = (
    ("registrations", N_("Registrations")),
    ("proposals", N_("Proposals")),
    ("supports", N_("Supports")),
    ("pledges", N_("Pledges")),
    ("credentials", N_("Credentials")),
    ("ballots", N_("Ballots")),
)
# The longest span, in days, that the timeline shows day by day.
DAILY_SPAN = 62
# Pledges that count as raised: still standing, or due because the proposal won.
RAISED = ("live", "due")


@dataclass(frozen=True)
class Table:
    """A table of the dashboard, shown on the page and downloadable as CSV."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[list[int | str]]
    # Columns holding money in minor units (formatted as money on the page).
    money: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CityFigures:
    monthly: Table
    districts: Table
    reviews: Table
    cofunding: Table

    def tables(self) -> list[Table]:
        return [self.monthly, self.districts, self.reviews, self.cofunding]

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables() if t.key == key), None)


def nearest_rank(values: list[int], p: int) -> int | None:
    """The ``p``-th percentile of ``values`` by nearest rank (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[rank - 1]


def _day(at: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d")


def _entry_months(db: Session, seqs: list[int], zone: tzinfo) -> dict[int, str]:
    """The local day of each log entry's public ``at`` (``YYYY-MM-DDTHH:MM:SSZ``)."""
    months: dict[int, str] = {}
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        for seq, data in db.execute(
            select(LogEntry.seq, LogEntry.data).where(LogEntry.seq.in_(chunk))  # type: ignore[attr-defined]
        ):
            at = datetime.fromisoformat(str(json.loads(bytes(data))["at"]))
            months[seq] = at.astimezone(zone).strftime("%Y-%m-%d")
    return months


def _count(pairs: Iterable[tuple[str, str]]) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for month, series in pairs:
        out[month][series] += 1
    return out


def city_figures(db: Session, time_zone: str = "UTC") -> CityFigures:
    """Every table of the city dashboard, read in the caller's transaction; days are those
    of ``time_zone`` (an IANA name)."""
    zone = ZoneInfo(time_zone)
    names = {d.code: d.name for d in db.scalars(select(District))}
    events: list[tuple[str, str]] = []  # (month, series)
    per_district: dict[str, Counter[str]] = defaultdict(Counter)
    raised_by_district: Counter[str] = Counter()

    for created, district in db.execute(
        select(User.created_at, User.district).where(User.role == "resident")
    ):
        events.append((_day(created, zone), "registrations"))
        per_district[district or ""]["registrations"] += 1
    proposal_district: dict[int, str] = {}
    for pid, created, district, status in db.execute(
        select(Proposal.id, Proposal.created_at, Proposal.district, Proposal.status)
    ):
        proposal_district[int(pid)] = district
        if status in PUBLIC:
            events.append((_day(created, zone), "proposals"))
            per_district[district]["proposals"] += 1
    for pid, at in db.execute(select(Support.proposal_id, Support.at)):
        events.append((_day(at, zone), "supports"))
        per_district[proposal_district.get(pid, "")]["supports"] += 1
    for pid, created, amount, status in db.execute(
        select(Pledge.proposal_id, Pledge.created_at, Pledge.amount, Pledge.status)
    ):
        events.append((_day(created, zone), "pledges"))
        district = proposal_district.get(pid, "")
        per_district[district]["pledges"] += 1
        if status in RAISED:
            raised_by_district[district] += int(amount)

    election_district = dict(db.execute(select(Election.id, Election.district)).all())
    issued = list(db.execute(select(CredentialIssuance.election_id, CredentialIssuance.seq)))
    cast = list(db.execute(select(CastBallot.election_id, CastBallot.seq)))
    months = _entry_months(db, [seq for _e, seq in issued] + [seq for _e, seq in cast], zone)
    for series, rows in (("credentials", issued), ("ballots", cast)):
        for election_id, seq in rows:
            if seq in months:
                events.append((months[seq], series))
            per_district[election_district.get(election_id, "")][series] += 1

    days = sorted({day for day, _series in events})
    # By day while everything falls within about two months, by month after that.
    by_day = (
        bool(days)
        and (datetime.fromisoformat(days[-1]) - datetime.fromisoformat(days[0])).days <= DAILY_SPAN
    )
    width = 10 if by_day else 7
    counts = _count((day[:width], series) for day, series in events)
    monthly = Table(
        key="monthly",
        title=N_("Participation by day") if by_day else N_("Participation by month"),
        columns=(N_("Day") if by_day else N_("Month"), *(title for _k, title in SERIES)),
        rows=[[m, *(counts[m][k] for k, _t in SERIES)] for m in sorted(counts)],
    )
    codes = sorted(set(names) | {c for c in per_district if c})
    if "" in per_district:
        codes.append("")
    districts = Table(
        key="districts",
        title=N_("Participation by district"),
        columns=(N_("District"), *(t for _k, t in SERIES), N_("Pledged")),
        rows=[
            [
                names.get(code, code) if code else N_("No district"),
                *(per_district[code][k] for k, _t in SERIES),
                raised_by_district[code],
            ]
            for code in codes
        ],
        money=frozenset({len(SERIES) + 1}),
    )
    return CityFigures(
        monthly=monthly,
        districts=districts,
        reviews=_reviews(db),
        cofunding=_cofunding(db),
    )


def _reviews(db: Session) -> Table:
    """Hours from entering review to the decision, per programme."""
    program_of = dict(db.execute(select(Proposal.id, Proposal.program_id)).all())
    entered: dict[int, int] = {}
    hours: dict[int, list[int]] = defaultdict(list)
    waiting: Counter[int] = Counter()
    for pid, to_status, at in db.execute(
        select(StatusChange.proposal_id, StatusChange.to_status, StatusChange.at).order_by(
            StatusChange.at, StatusChange.id
        )
    ):
        if to_status == "in_review":
            entered.setdefault(pid, at)
        elif to_status in {"accepted", "rejected"} and pid in entered:
            hours[program_of[pid]].append((at - entered.pop(pid)) // 3600)
    for pid in entered:
        waiting[program_of[pid]] += 1
    rows: list[list[int | str]] = []
    for program in db.scalars(select(Program).order_by(Program.id)):
        done = hours.get(program.id or 0, [])
        median = nearest_rank(done, 50)
        p90 = nearest_rank(done, 90)
        rows.append(
            [
                program.title,
                len(done),
                waiting[program.id or 0],
                "—" if median is None else median,
                "—" if p90 is None else p90,
            ]
        )
    return Table(
        key="reviews",
        title=N_("Review times"),
        columns=(
            N_("Programme"),
            N_("Reviewed"),
            N_("Waiting"),
            N_("Median, hours"),
            N_("90th percentile, hours"),
        ),
        rows=rows,
    )


def _cofunding(db: Session) -> Table:
    """Per programme with co-funding: what its public proposals require and what is raised."""
    raised: Counter[int] = Counter()
    for pid, amount in db.execute(
        select(Pledge.proposal_id, Pledge.amount).where(Pledge.status.in_(RAISED))  # type: ignore[attr-defined]
    ):
        raised[pid] += int(amount)
    rows: list[list[int | str]] = []
    for program in db.scalars(select(Program).order_by(Program.id)):
        if program.cofund_percent <= 0:
            continue
        required = got = met = count = 0
        for proposal in db.scalars(select(Proposal).where(Proposal.program_id == program.id)):
            if proposal.status not in PUBLIC or proposal.status == "rejected":
                continue
            need = required_pledges(program, proposal)
            have = raised[proposal.id or 0]
            count += 1
            required += need
            got += have
            met += have >= need
        percent = 100 if required == 0 else got * 100 // required
        rows.append([program.title, count, met, required, got, percent])
    return Table(
        key="cofunding",
        title=N_("Co-funding raised against what is required"),
        columns=(
            N_("Programme"),
            N_("Proposals"),
            N_("Fully co-funded"),
            N_("Required"),
            N_("Raised"),
            N_("Raised, % of required"),
        ),
        rows=rows,
        money=frozenset({3, 4}),
    )
