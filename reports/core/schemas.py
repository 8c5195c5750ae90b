"""Report structs on the wire (the JSON API of docs/protocol.md §16.7)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from reports.core.location import MAX_LAT_E6, MAX_LON_E6

Latitude = Annotated[int, msgspec.Meta(ge=-MAX_LAT_E6, le=MAX_LAT_E6)]
Longitude = Annotated[int, msgspec.Meta(ge=-MAX_LON_E6, le=MAX_LON_E6)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Comment = Annotated[str, msgspec.Meta(max_length=2000)]


class _In(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class ReportCreate(_In, frozen=True):
    category: Code
    description: Description
    lat_e6: Latitude
    lon_e6: Longitude
    # Needed only when the municipality has no district boundaries.
    district: Code | None = None
    public: bool = True


class AnswerIn(_In, frozen=True):
    text: Description


class RatingIn(_In, frozen=True):
    rating: Rating
    comment: Comment = ""


class ReassignIn(_In, frozen=True):
    organisation: Code


class StaffIn(_In, frozen=True):
    user_id: int
    organisation: Code


class BoundaryIn(_In, frozen=True):
    geojson: str | None


class StepOut(msgspec.Struct, frozen=True):
    from_status: str | None
    to_status: str
    organisation: str
    at: int
    seq: int


class ReportOut(msgspec.Struct, frozen=True):
    id: str
    category: str
    district: str
    organisation: str
    description: str
    lat_e6: int
    lon_e6: int
    public: bool
    status: str
    received_at: int
    deadline_days: int
    first_response_days: int | None
    deadline_at: int
    clock_seconds: int
    overdue: bool
    first_response_at: int | None
    answered_at: int | None
    closed_at: int | None
    answer_text: str | None
    rating: int | None
    reopened: int
    followers: int
    photos: list[str]
    answer_photos: list[str]
    mine: bool
    steps: list[StepOut]


class Nearby(msgspec.Struct, frozen=True):
    id: str
    category: str
    status: str
    description: str
    lat_e6: int
    lon_e6: int
    followers: int
