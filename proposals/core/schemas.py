"""Proposal structs on the wire."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from proposals.core.lifecycle import Status

Money = Annotated[int, msgspec.Meta(ge=0, le=10**15)]
Positive = Annotated[int, msgspec.Meta(ge=1, le=10**15)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Description = Annotated[str, msgspec.Meta(max_length=10000)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Latitude = Annotated[int, msgspec.Meta(ge=-90_000_000, le=90_000_000)]
Longitude = Annotated[int, msgspec.Meta(ge=-180_000_000, le=180_000_000)]
Phase = Literal["submission", "support", "review", "cofunding", "voting", "implementation"]
PHASES: tuple[Phase, ...] = (
    "submission",
    "support",
    "review",
    "cofunding",
    "voting",
    "implementation",
)
Pledgers = Literal["residents", "businesses", "both"]
Stage = Literal["planned", "contracted", "in_progress", "completed"]
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


class PhaseDates(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    starts: Date
    ends: Date


class DistrictBudget(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    district: str
    budget: Money


class ProgramCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    title: Title
    currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] = "RUB"
    districts: Annotated[list[DistrictBudget], msgspec.Meta(min_length=1, max_length=100)]
    categories: Annotated[list[Label], msgspec.Meta(min_length=1, max_length=50)]
    phases: dict[Phase, PhaseDates] = {}
    support_threshold: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    cofund_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    cofund_who: Pledgers = "both"
    # Whole UTC seconds; pledges may be made and withdrawn before it.
    cofund_deadline: Annotated[int, msgspec.Meta(ge=0, le=2**40)] | None = None
    map_tile_url: Annotated[str, msgspec.Meta(max_length=500)] = DEFAULT_TILE_URL


class ProgramUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    map_tile_url: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    cofund_deadline: Annotated[int, msgspec.Meta(ge=0, le=2**40)] | None = None


class ProgramRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The rules an administrator may change while the program is in its submission
    phase (logged as ``program.changed``, docs/protocol.md §18.4)."""

    title: Title
    categories: Annotated[list[Label], msgspec.Meta(min_length=1, max_length=50)]
    phases: dict[Phase, PhaseDates] = {}
    support_threshold: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    cofund_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0


class PhaseChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phase: Phase


class ProgramOut(msgspec.Struct, frozen=True):
    id: int
    title: str
    currency: str
    phase: str
    phases: dict[str, Any]
    districts: list[DistrictBudget]
    categories: list[str]
    support_threshold: int
    cofund_percent: int
    cofund_who: str
    cofund_deadline: int | None
    map_tile_url: str


class ProposalCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    program: int
    title: Title
    summary: Summary
    description: Description = ""
    category: Label
    district: str
    cost: Positive
    lat_e6: Latitude | None = None
    lon_e6: Longitude | None = None


class ProposalUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    title: Title | None = None
    summary: Summary | None = None
    description: Description | None = None
    category: Label | None = None
    district: str | None = None
    cost: Positive | None = None
    lat_e6: Latitude | None = None
    lon_e6: Longitude | None = None


class Review(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    decision: Literal["accept", "reject"]
    validated_cost: Positive | None = None
    reason: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class StatusChangeOut(msgspec.Struct, frozen=True):
    from_status: str
    to_status: str
    reason: str | None
    seq: int
    at: int


class CoFunding(msgspec.Struct, frozen=True):
    required: int
    pledged: int
    residents: int
    businesses: int
    percent: int
    met: bool
    open: bool


class ProposalOut(msgspec.Struct, frozen=True):
    id: int
    program: int
    author: str
    title: str
    summary: str
    description: str
    category: str
    district: str
    cost: int
    validated_cost: int | None
    lat_e6: int | None
    lon_e6: int | None
    status: Status
    reason: str | None
    election: str | None
    supports: int
    cofunding: CoFunding
    allowed_next: list[str]
    images: list[str]
    created_at: int
    updated_at: int


class BusinessCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Title
    inn: Annotated[str, msgspec.Meta(max_length=12)]


class BusinessOut(msgspec.Struct, frozen=True):
    id: int
    name: str
    inn: str
    kind: str


class PledgeCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: Positive
    business: int | None = None


class PledgeOut(msgspec.Struct, frozen=True):
    id: int
    proposal: int
    amount: int
    # "resident" or "business"; who pledged is shown only to the pledger.
    kind: str
    status: str
    mine: bool


class ProjectEntry(msgspec.Struct, frozen=True):
    id: str
    title: str
    cost: int
    proposal: str


class BallotRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    district: str
    # The rest of the election's configuration (id, title, ballot, rule, window,
    # eligibility ...); projects, district, budget and currency come from the program.
    election: dict[str, Any]
    # The proposals to put on the ballot, among those that meet the rules (all of them
    # when absent).
    proposals: list[int] | None = None


class BallotCreated(msgspec.Struct, frozen=True):
    election: str
    projects: list[ProjectEntry]


class ResultApplied(msgspec.Struct, frozen=True):
    election: str
    won: list[int]
    lost: list[int]


class MilestoneCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    stage: Stage
    percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    date: Date
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class MilestoneOut(msgspec.Struct, frozen=True):
    id: int
    stage: str
    percent: int
    date: str
    note: str
    photos: list[str]


class RatingCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]


class Implementation(msgspec.Struct, frozen=True):
    proposal: int
    status: str
    milestones: list[MilestoneOut]
    ratings: int
    # The average in hundredths of a star (integer arithmetic), None when unrated.
    average_x100: int | None
    days_to_complete: int | None


class ImageOut(msgspec.Struct, frozen=True):
    id: str
    url: str
    content_type: str
    width: int
    height: int
