"""The log entry kinds of resident reports (docs/protocol.md §16.4). Bodies carry no
personal data: no reporter id, no text, no exact point, no photo bytes; a report is
named by a random 32-hex id (never a sequential number), its place by a 0.01° grid cell
(``reports.core.location``), its photos by their SHA-256.

- ``report.received`` -- a report arrived: category, district, the organisation it was
  routed to, that routing's deadline and first-response target, the grid cell, the time.
- ``report.status`` -- a change of status other than an answer or a rating (taken in
  work, reassigned, sent back by a supervisor, closed on its own).
- ``report.answered`` -- the organisation answered, with the photos' SHA-256.
- ``report.rated`` -- the reporter rated the answer 1–5; 3 or more closes the report,
  less reopens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec

from audit.core.entry import Count, HashHex

REPORT_RECEIVED = "report.received"
REPORT_STATUS = "report.status"
REPORT_ANSWERED = "report.answered"
REPORT_RATED = "report.rated"

ReportId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{32}$")]
Code = Annotated[str, msgspec.Meta(pattern="^[a-z0-9][a-z0-9_-]{0,63}$")]
DistrictCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
StatusName = Annotated[str, msgspec.Meta(pattern="^(received|in_work|answered|reopened|closed)$")]
Days = Annotated[int, msgspec.Meta(ge=1, le=366)]
LatE2 = Annotated[int, msgspec.Meta(ge=-9000, le=9000)]
LonE2 = Annotated[int, msgspec.Meta(ge=-18000, le=18000)]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]
Photos = Annotated[list[HashHex], msgspec.Meta(min_length=1, max_length=5)]


class _Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class ReportReceived(_Body, frozen=True):
    report: ReportId
    category: Code
    district: DistrictCode
    organisation: Code
    deadline_days: Days
    first_response_days: Days | None
    lat_e2: LatE2
    lon_e2: LonE2
    at: Count


class ReportStatus(_Body, frozen=True):
    report: ReportId
    from_status: StatusName
    to_status: StatusName
    organisation: Code
    at: Count


class ReportAnswered(_Body, frozen=True):
    report: ReportId
    organisation: Code
    photos: Photos
    at: Count


class ReportRated(_Body, frozen=True):
    report: ReportId
    rating: Rating
    at: Count


REPORT_KINDS: Mapping[str, type[msgspec.Struct]] = {
    REPORT_RECEIVED: ReportReceived,
    REPORT_STATUS: ReportStatus,
    REPORT_ANSWERED: ReportAnswered,
    REPORT_RATED: ReportRated,
}

__all__ = [
    "REPORT_ANSWERED",
    "REPORT_KINDS",
    "REPORT_RATED",
    "REPORT_RECEIVED",
    "REPORT_STATUS",
    "ReportAnswered",
    "ReportRated",
    "ReportReceived",
    "ReportStatus",
]
