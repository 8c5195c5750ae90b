"""The numbers of an election's admin dashboard (credentials obtained and ballots cast
over time, turnout by district and by roll), and the sections other packages add to it
(``DashboardPanel``), which the composition root passes to ``pages.election_pages``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.services.models import LogEntry
from ballot.http.display import percent
from ballot.services.models import CastBallot, CredentialIssuance, Election, RollEntry
from kernel.accounts.models import District, User


@dataclass(frozen=True)
class DashboardPanel:
    """A section of an election's admin dashboard that another package contributes: the
    page includes ``template``, which finds this object as ``panel`` (``panel.data``)."""

    template: str
    data: Any


# Gives the panel to show, or None, reading in the page's transaction.
PanelSource = Callable[[Session], DashboardPanel | None]


def _entry_times(db: Session, seqs: list[int]) -> dict[int, str]:
    """The ``at`` of log entries by seq (public times, to the second)."""
    times: dict[int, str] = {}
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        for seq, data in db.execute(
            select(LogEntry.seq, LogEntry.data).where(LogEntry.seq.in_(chunk))  # type: ignore[attr-defined]
        ):
            times[seq] = str(json.loads(bytes(data))["at"])
    return times


def _timeline(issued: list[str], cast: list[str]) -> dict[str, Any]:
    """Cumulative counts of credentials and ballots over time, as SVG polylines."""
    moments = sorted(issued + cast)
    if not moments:
        return {"points": [], "issued": "", "cast": "", "buckets": []}
    first = datetime.fromisoformat(moments[0])
    last = datetime.fromisoformat(moments[-1])
    span = max(1, int((last - first).total_seconds()))
    # Buckets of a minute, an hour or a day, so that a chart has a few of them.
    key_len = 16 if span <= 3 * 3600 else 13 if span <= 3 * 86400 else 10
    buckets = sorted({m[:key_len] for m in moments})
    issued_by = Counter(m[:key_len] for m in issued)
    cast_by = Counter(m[:key_len] for m in cast)
    rows = []
    total_i = total_c = 0
    for bucket in buckets:
        total_i += issued_by[bucket]
        total_c += cast_by[bucket]
        rows.append(
            {
                "label": bucket.replace("T", " ") + (":00" if key_len == 13 else ""),
                "issued": issued_by[bucket],
                "cast": cast_by[bucket],
                "issued_total": total_i,
                "cast_total": total_c,
            }
        )
    width, height = 400, 160
    top = max(total_i, total_c, 1)
    n = len(rows)

    def line(key: str) -> str:
        # From zero at the left edge, one point at the end of each bucket.
        pts = [f"0,{height}"]
        for k, row in enumerate(rows, start=1):
            pts.append(f"{k * width // n},{height - row[key] * (height - 10) // top}")
        return " ".join(pts)

    return {
        "buckets": rows,
        "issued": line("issued_total"),
        "cast": line("cast_total"),
        "width": width,
        "height": height,
        "top": top,
        "unit": {16: "minute", 13: "hour", 10: "day"}[key_len],
        "first": rows[0]["label"],
        "last": rows[-1]["label"],
    }


def dashboard_numbers(db: Session, row: Election) -> dict[str, Any]:
    issuances = list(
        db.execute(
            select(CredentialIssuance.voter_key, CredentialIssuance.seq).where(
                CredentialIssuance.election_id == row.id
            )
        )
    )
    casts = list(
        db.execute(
            select(CastBallot.seq, CastBallot.credential).where(CastBallot.election_id == row.id)
        )
    )
    times = _entry_times(db, [seq for _k, seq in issuances] + [seq for seq, _c in casts])
    timeline = _timeline(
        [times[seq] for _k, seq in issuances if seq in times],
        [times[seq] for seq, _c in casts if seq in times],
    )
    # Who obtained a credential is known by account ("user:<public id>") or by roll entry
    # ("roll:<ref>"); accounts give their district, roll entries are their own group.
    user_ids = [key[5:] for key, _seq in issuances if key.startswith("user:")]
    district_of: dict[str, str | None] = {}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        for public_id, district in db.execute(
            select(User.public_id, User.district).where(User.public_id.in_(chunk))  # type: ignore[attr-defined]
        ):
            district_of[public_id] = district
    by_district: Counter[str | None] = Counter(district_of.get(uid) for uid in user_ids)
    roll_issued = sum(1 for key, _seq in issuances if key.startswith("roll:"))
    residents = dict(
        db.execute(
            select(User.district, func.count())
            .where(User.role == "resident")
            .group_by(User.district)
        ).all()
    )
    roll_size = db.scalar(
        select(func.count()).select_from(RollEntry).where(RollEntry.election_id == row.id)
    )
    names = {d.code: d.name for d in db.scalars(select(District))}
    districts = []
    for code in sorted(set(names) | {c for c in by_district if c}):
        districts.append(
            {
                "name": names.get(code, code),
                "eligible": int(residents.get(code, 0)),
                "issued": by_district.get(code, 0),
                "share": percent(by_district.get(code, 0), int(residents.get(code, 0))),
                "home": code == row.district,
            }
        )
    return {
        "issued": len(issuances),
        "ballots": len(casts),
        "voters": len({c for _s, c in casts}),
        "timeline": timeline,
        "districts": districts,
        "roll": {
            "eligible": int(roll_size or 0),
            "issued": roll_issued,
            "share": percent(roll_issued, int(roll_size or 0)),
        },
    }
