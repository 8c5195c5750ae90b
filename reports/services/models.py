"""Tables of resident reports. Times are whole UTC seconds since the epoch.

The configuration (organisations, categories, routing rules, district areas) is
staff's; the reports, their steps, photos and followers are residents' and
organisations' work. What the public may check is in the log (docs/protocol.md §16);
these rows hold what the log must not: who reported, the text, the exact point.
"""

from __future__ import annotations

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class ReportOrganisation(SQLModel, table=True):
    __tablename__ = "report_organisation"

    code: str = Field(primary_key=True, max_length=64)
    name_en: str = Field(max_length=200)
    name_ru: str = Field(max_length=200)


class ReportCategory(SQLModel, table=True):
    __tablename__ = "report_category"

    code: str = Field(primary_key=True, max_length=64)
    parent: str | None = Field(default=None, max_length=64)
    title_en: str = Field(max_length=200)
    title_ru: str = Field(max_length=200)


class ReportRule(SQLModel, table=True):
    """Who answers reports of a category in a district ("*": every district), how soon."""

    __tablename__ = "report_rule"

    category: str = Field(primary_key=True, max_length=64)
    district: str = Field(primary_key=True, max_length=64)
    organisation: str = Field(foreign_key="report_organisation.code", max_length=64)
    deadline_days: int = 30
    first_response_days: int | None = None


class DistrictArea(SQLModel, table=True):
    """A district's boundary as GeoJSON (a Polygon or MultiPolygon geometry, lon/lat)."""

    __tablename__ = "district_area"

    district: str = Field(foreign_key="district.code", primary_key=True, max_length=64)
    geojson: str


class OrganisationStaff(SQLModel, table=True):
    """An ``org_staff`` account works for exactly one organisation."""

    __tablename__ = "organisation_staff"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    organisation: str = Field(foreign_key="report_organisation.code", index=True, max_length=64)


class Report(SQLModel, table=True):
    __tablename__ = "report"
    # The analytics' exact percentiles read one bucket of durations in order, checking
    # the filters from the index alone (reports.services.analytics).
    __table_args__ = (
        Index(
            "ix_report_first_response_s",
            "first_response_s",
            "received_at",
            "category",
            "district",
            "organisation",
        ),
        # The map's days at the edges of a period: cells counted from the index alone.
        Index(
            "ix_report_received_place",
            "received_at",
            "category",
            "district",
            "organisation",
            "lat_e6",
            "lon_e6",
        ),
        Index(
            "ix_report_first_answer_s",
            "first_answer_s",
            "received_at",
            "category",
            "district",
            "organisation",
        ),
    )

    # 32 random hex digits: the id the log carries (never a sequential number).
    id: str = Field(primary_key=True, max_length=32)
    reporter_id: int = Field(foreign_key="user_account.id", index=True)
    category: str = Field(max_length=64, index=True)
    district: str = Field(max_length=64, index=True)
    organisation: str = Field(max_length=64, index=True)
    description: str = Field(max_length=5000)
    lat_e6: int
    lon_e6: int
    public: bool = True
    status: str = Field(max_length=16, index=True)
    deadline_days: int
    first_response_days: int | None = None
    received_at: int = Field(index=True)
    # The deadline clock (reports.core.lifecycle) up to ``clock_at``, and whether it runs.
    clock_seconds: int = 0
    clock_at: int
    first_response_at: int | None = None
    answered_at: int | None = None
    closed_at: int | None = None
    answer_text: str | None = Field(default=None, max_length=5000)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=2000)
    reopened: int = 0
    updated_at: int
    # What the analytics count (reports.core.analytics.Facts): seconds from receipt to
    # the first response and to the first answer, whether that answer was in time, and
    # every rating's count and sum (``rating`` above is only the last one).
    first_response_s: int | None = None
    first_answer_s: int | None = None
    answered_in_time: bool | None = None
    ratings: int = 0
    rating_sum: int = 0


class ReportStep(SQLModel, table=True):
    """One change of status, with the log entry that records it."""

    __tablename__ = "report_step"

    id: int | None = Field(default=None, primary_key=True)
    report_id: str = Field(foreign_key="report.id", index=True, max_length=32)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    organisation: str = Field(max_length=64)
    at: int
    seq: int


class ReportPhoto(SQLModel, table=True):
    """A photo of the problem (by the reporter) or of the work done (``answer``)."""

    __tablename__ = "report_photo"

    id: str = Field(primary_key=True, max_length=32)
    report_id: str = Field(foreign_key="report.id", index=True, max_length=32)
    purpose: str = Field(max_length=16)  # "report" or "answer"
    # The answer this photo proves (answers are numbered per report); None until used.
    answer: int | None = None
    content_type: str = Field(max_length=32)
    extension: str = Field(max_length=8)
    size: int
    width: int
    height: int
    sha256: str = Field(max_length=64)
    created_at: int


class ReportFollower(SQLModel, table=True):
    """A resident who said "me too" instead of reporting the same problem again."""

    __tablename__ = "report_follower"

    report_id: str = Field(foreign_key="report.id", primary_key=True, max_length=32)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    at: int


class Open311Key(SQLModel, table=True):
    """An API key of an Open311 client that posts requests on behalf of an account."""

    __tablename__ = "open311_key"

    # SHA-256 of the key: a stolen database yields no usable key.
    key_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    label: str = Field(max_length=200)
    created_at: int


class ReportDaily(SQLModel, table=True):
    """Reports received on a local day (the municipality's time zone, as a day number
    from 1970-01-01), by category, district and the organisation that
    holds them now: the counters of ``reports.core.analytics.COUNTERS``, kept by every
    step (``reports.services.aggregates``)."""

    __tablename__ = "report_daily"

    day: int = Field(primary_key=True)
    category: str = Field(primary_key=True, max_length=64)
    district: str = Field(primary_key=True, max_length=64)
    organisation: str = Field(primary_key=True, max_length=64)
    received: int = 0
    responded: int = 0
    answered: int = 0
    in_time: int = 0
    reopened: int = 0
    ratings: int = 0
    rating_sum: int = 0
    r0: int = 0
    r1: int = 0
    r2: int = 0
    r3: int = 0
    r4: int = 0
    r5: int = 0
    r6: int = 0
    r7: int = 0
    r8: int = 0
    r9: int = 0
    r10: int = 0
    r11: int = 0
    r12: int = 0
    a0: int = 0
    a1: int = 0
    a2: int = 0
    a3: int = 0
    a4: int = 0
    a5: int = 0
    a6: int = 0
    a7: int = 0
    a8: int = 0
    a9: int = 0
    a10: int = 0
    a11: int = 0
    a12: int = 0


class ReportCellMonth(SQLModel, table=True):
    """Reports received in a local calendar month (its first day's number) in a 0.01° cell,
    by category, district and organisation: what the analytics map draws."""

    __tablename__ = "report_cell_month"

    month: int = Field(primary_key=True)
    category: str = Field(primary_key=True, max_length=64)
    district: str = Field(primary_key=True, max_length=64)
    organisation: str = Field(primary_key=True, max_length=64)
    lat_e2: int = Field(primary_key=True)
    lon_e2: int = Field(primary_key=True)
    reports: int = 0


class ReportAnalyticsZone(SQLModel, table=True):
    """The time zone whose local days ``report_daily`` and ``report_cell_month`` count
    (one row; the setting ``time_zone`` when they were last counted)."""

    __tablename__ = "report_analytics_zone"

    time_zone: str = Field(primary_key=True, max_length=64)
