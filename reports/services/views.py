"""What the API and pages show of reports: one report as the viewer may see it, the
lists (public, mine, an organisation's queue, the supervisor's overdue list) and the
open reports near a point that a resident may follow instead of reporting again."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kernel.accounts.models import User
from reports.core.lifecycle import DAY, OPEN
from reports.core.location import Point, squared_offset_e6
from reports.core.schemas import Nearby, ReportOut, StepOut
from reports.services.models import Report, ReportFollower, ReportStep
from reports.services.photos import ReportPhotos
from reports.services.service import ReportService

NEARBY_E6 = 5_000
"""How far "nearby" reaches: 0.005° (about 550 m north to south)."""
LIST_LIMIT = 500


class ReportViews:
    def __init__(self, reports: ReportService, photos: ReportPhotos) -> None:
        self.reports = reports
        self.photos = photos

    def out(self, db: Session, report: Report, viewer: User | None) -> ReportOut:
        now = self.reports.now()
        own, answer = self.photos.urls(db, report.id)
        steps = db.scalars(
            select(ReportStep).where(ReportStep.report_id == report.id).order_by(ReportStep.seq)  # type: ignore[arg-type]
        ).all()
        mine = viewer is not None and viewer.id == report.reporter_id
        return ReportOut(
            id=report.id,
            category=report.category,
            district=report.district,
            organisation=report.organisation,
            description=report.description,
            lat_e6=report.lat_e6,
            lon_e6=report.lon_e6,
            public=report.public,
            status=report.status,
            received_at=report.received_at,
            deadline_days=report.deadline_days,
            first_response_days=report.first_response_days,
            deadline_at=report.received_at + report.deadline_days * DAY,
            clock_seconds=self.reports.clock_now(report, now),
            overdue=self.reports.overdue(report, now),
            first_response_at=report.first_response_at,
            answered_at=report.answered_at,
            closed_at=report.closed_at,
            answer_text=report.answer_text,
            rating=report.rating,
            reopened=report.reopened,
            followers=self.reports.followers(db, report.id),
            photos=own,
            answer_photos=answer,
            mine=mine,
            steps=[StepOut(s.from_status, s.to_status, s.organisation, s.at, s.seq) for s in steps],
        )

    def public(
        self, db: Session, *, category: str | None = None, status: str | None = None
    ) -> list[Report]:
        query = select(Report).where(Report.public.is_(True))  # type: ignore[attr-defined]
        if category:
            query = query.where(Report.category == category)
        if status:
            query = query.where(Report.status == status)
        return list(db.scalars(query.order_by(Report.received_at.desc()).limit(LIST_LIMIT)))  # type: ignore[attr-defined]

    def mine(self, db: Session, user: User) -> list[Report]:
        followed = select(ReportFollower.report_id).where(ReportFollower.user_id == user.id)
        query = select(Report).where(
            or_(Report.reporter_id == user.id, Report.id.in_(followed))  # type: ignore[attr-defined]
        )
        return list(db.scalars(query.order_by(Report.received_at.desc()).limit(LIST_LIMIT)))  # type: ignore[attr-defined]

    def queue(self, db: Session, organisation: str) -> list[Report]:
        """An organisation's open reports, oldest first."""
        query = select(Report).where(
            Report.organisation == organisation,
            Report.status.in_(("received", "in_work")),  # type: ignore[attr-defined]
        )
        return list(db.scalars(query.order_by(Report.received_at).limit(LIST_LIMIT)))  # type: ignore[arg-type]

    def overdue(self, db: Session) -> list[Report]:
        """Open reports past their deadline, and reopened ones: the supervisor's list."""
        now = self.reports.now()
        query = select(Report).where(Report.status.in_(tuple(OPEN)))  # type: ignore[attr-defined]
        rows = db.scalars(query.order_by(Report.received_at)).all()  # type: ignore[arg-type]
        return [r for r in rows if r.status == "reopened" or self.reports.overdue(r, now)][
            :LIST_LIMIT
        ]

    def nearby(self, db: Session, category: str, point: Point) -> list[Nearby]:
        """Open public reports of ``category`` within ``NEARBY_E6`` of ``point``, nearest first."""
        query = select(Report).where(
            Report.category == category,
            Report.public.is_(True),  # type: ignore[attr-defined]
            Report.status.in_(tuple(OPEN)),  # type: ignore[attr-defined]
            Report.lat_e6.between(point.lat_e6 - NEARBY_E6, point.lat_e6 + NEARBY_E6),  # type: ignore[attr-defined]
            Report.lon_e6.between(point.lon_e6 - 2 * NEARBY_E6, point.lon_e6 + 2 * NEARBY_E6),  # type: ignore[attr-defined]
        )
        rows = sorted(
            db.scalars(query.limit(200)).all(),
            key=lambda r: squared_offset_e6(point, Point(r.lat_e6, r.lon_e6)),
        )[:10]
        counts = dict(
            db.execute(
                select(ReportFollower.report_id, func.count())
                .where(ReportFollower.report_id.in_([r.id for r in rows]))  # type: ignore[attr-defined]
                .group_by(ReportFollower.report_id)
            ).all()
        )
        return [
            Nearby(
                r.id,
                r.category,
                r.status,
                r.description[:200],
                r.lat_e6,
                r.lon_e6,
                int(counts.get(r.id, 0)),
            )
            for r in rows
        ]
