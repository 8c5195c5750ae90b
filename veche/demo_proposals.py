"""Demo data for proposals: a program of the demo districts with proposals in every
state, supports, pledges of residents and of a business, a rejected proposal, an
election draft made from the accepted ones, and a completed project with milestones, a
photo and ratings. Everything goes through the services, so the log records it all.

The demo does not run this program's election (``veche demo`` runs its own in full):
the result applied to the ballot here is the demo's choice of winners.
"""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

from litestar.datastructures import State
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.accounts.models import User
from proposals.core.schemas import (
    BallotRequest,
    BusinessCreate,
    DistrictBudget,
    MilestoneCreate,
    PhaseChange,
    PhaseDates,
    PledgeCreate,
    ProgramCreate,
    ProposalCreate,
    RatingCreate,
    Review,
)

RUB = 100  # minor units per rouble

# (title, summary, category, district, cost in roubles, (lat, lon) in micro-degrees)
IDEAS = [
    ("Lime-tree alley on Sadovaya street", "Forty lime trees and two lines of benches",
     "Parks", "centre", 1_800_000, (55_755_800, 37_617_600)),
    ("Fountain in Victory park", "Restore the old fountain and its lighting",
     "Parks", "centre", 2_500_000, (55_752_300, 37_623_100)),
    ("Pedestrian crossing at school No. 5", "A raised crossing with lights",
     "Roads", "centre", 700_000, (55_749_100, 37_611_900)),
    ("Ice rink in the courtyard", "A winter rink with a warm changing room",
     "Sport", "centre", 900_000, (55_758_200, 37_606_400)),
    ("Outdoor gym by the river", "Ten exercise machines on a soft surface",
     "Sport", "riverside", 1_200_000, (55_744_500, 37_630_800)),
    ("Boat pier", "A wooden pier for rowing boats",
     "Parks", "riverside", 3_000_000, (55_741_900, 37_634_200)),
    ("Bird houses in the grove", "Fifty bird houses made with the school",
     "Parks", "north", 80_000, None),
    ("Heated bus stops", "Three heated shelters on Lenin avenue",
     "Roads", "north", 2_100_000, (55_771_000, 37_602_000)),
    ("Community garden", "Raised beds and a tool shed for neighbours",
     "Parks", "north", 400_000, (55_773_400, 37_598_700)),
    ("Reading hall in the library", "Chairs, lamps and shelves for the district library",
     "Sport", "centre", 1_000_000, (55_753_900, 37_609_300)),
]  # fmt: skip


def tiny_png(width: int = 48, height: int = 32) -> bytes:
    """A small green image for the demo's milestone photo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x3c\xa0\x5a" * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def _user(db: Session, email: str) -> User:
    user = db.scalars(select(User).where(User.email == email)).one()
    db.expunge(user)
    return user


def load_proposals_demo(state: State) -> None:
    """Fill the program, its proposals and their history through the services."""
    service, pledges = state.proposals, state.pledges
    today = datetime.now(UTC).date()

    def dates(start: int, length: int) -> PhaseDates:
        first = today + timedelta(days=start)
        return PhaseDates(first.isoformat(), (first + timedelta(days=length)).isoformat())

    program = service.create_program(
        ProgramCreate(
            title="Initiative budget 2027 / Инициативный бюджет 2027",
            districts=[
                DistrictBudget("centre", 6_000_000 * RUB),
                DistrictBudget("riverside", 4_000_000 * RUB),
                DistrictBudget("north", 3_000_000 * RUB),
            ],
            categories=["Parks", "Roads", "Sport"],
            phases={
                "submission": dates(-60, 20),
                "support": dates(-40, 15),
                "review": dates(-25, 10),
                "cofunding": dates(-15, 30),
                "voting": dates(15, 14),
                "implementation": dates(30, 300),
            },
            support_threshold=1,
            cofund_percent=5,
            cofund_who="both",
        )
    )
    with state.read_sessions() as db:
        anna = _user(db, "anna@demo.veche")
        boris = _user(db, "boris@demo.veche")
        moderator = _user(db, "moderator@demo.veche")
    ids = []
    for title, summary, category, district, cost, point in IDEAS:
        with state.sessions() as db, db.begin():
            created = service.create(
                db,
                anna,
                ProposalCreate(
                    program=program.id,
                    title=title,
                    summary=summary,
                    description=summary + ".",
                    category=category,
                    district=district,
                    cost=cost * RUB,
                    lat_e6=point[0] if point else None,
                    lon_e6=point[1] if point else None,
                ),
            )
        ids.append(created.id)
    alley, fountain, crossing, rink, gym, pier, birds, stops, garden, library = ids
    for pid in ids:
        if pid != stops:  # the heated bus stops stay a draft
            service.submit(anna, pid)
    service.move_phase(program.id, PhaseChange("support"))
    with state.sessions() as db, db.begin():
        bakery = pledges.register_business(db, boris, BusinessCreate("Bakery Kolos", "7707083893"))
    for pid in (alley, fountain, crossing, gym, pier, library):
        pledges.pledge(boris, pid, PledgeCreate(amount=60_000 * RUB))
    for pid in (alley, fountain, crossing, gym, pier, library, birds, garden):
        service.support(boris, pid)  # the rink still gathers support
    pledges.pledge(boris, alley, PledgeCreate(amount=40_000 * RUB, business=bakery.id))
    pledges.pledge(boris, fountain, PledgeCreate(amount=70_000 * RUB, business=bakery.id))
    withdrawn = pledges.pledge(boris, crossing, PledgeCreate(amount=5_000 * RUB))
    pledges.withdraw(boris, crossing, withdrawn.id)
    service.move_phase(program.id, PhaseChange("review"))
    accepted = [(alley, 1_900_000), (fountain, 2_400_000), (crossing, 700_000),
                (gym, 1_200_000), (garden, 450_000), (library, 1_000_000)]  # fmt: skip
    for pid, cost in accepted:  # the bird houses stay in review
        review = Review(decision="accept", validated_cost=cost * RUB)
        service.review(moderator, pid, review)
    service.review(
        moderator,
        pier,
        Review(
            decision="reject", reason="The river bank is federal land / Берег — федеральная земля"
        ),
    )
    service.move_phase(program.id, PhaseChange("cofunding"))
    window = {
        "opens_at": (datetime.now(UTC) + timedelta(days=15)).strftime("%Y-%m-%dT00:00:00Z"),
        "closes_at": (datetime.now(UTC) + timedelta(days=29)).strftime("%Y-%m-%dT00:00:00Z"),
    }
    made = {}
    for district, count in (("centre", 4), ("riverside", 1)):
        election = {
            "id": f"{district}-initiatives-2027",
            "title": f"Initiatives 2027: {district}",
            "ballot": {"kind": "approval", "min_projects": 1, "max_projects": count},
            "rule": {"name": "greedy"},
            "window": window,
            "eligibility": {"residents": True, "roll": False, "access_codes": False},
        }
        request = BallotRequest(district=district, election=election)
        made[district] = state.ballot_link.create_election(program.id, request).election
    # The garden stays accepted (no co-funding); the outdoor gym stays on the ballot.
    winners = [f"proposal-{pid}" for pid in (alley, fountain, crossing)]
    state.ballot_link.apply_winners(program.id, made["centre"], winners)
    work = state.implementation
    work.report(alley, MilestoneCreate(stage="contracted", date=dates(40, 0).starts))
    step = work.report(
        alley, MilestoneCreate(stage="in_progress", percent=60, date=dates(70, 0).starts)
    )
    state.uploads.add_photo(alley, step.id, tiny_png())
    work.report(alley, MilestoneCreate(stage="completed", date=dates(100, 0).starts))
    work.rate(anna, alley, RatingCreate(stars=5))
    work.rate(boris, alley, RatingCreate(stars=4))
    work.report(
        fountain, MilestoneCreate(stage="in_progress", percent=30, date=dates(60, 0).starts)
    )
    del rink, birds
