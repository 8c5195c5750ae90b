"""Reports: reading them as a viewer may, who may act on a report, its deadline clock,
and receiving a new one — checked, routed by its point (docs/protocol.md §16.1), written
with its ``report.received`` entry (§16.4) in one work item of the log's sequencer.
``ReportService`` (``reports.services.service``) adds the steps that follow."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog
from kernel.accounts.models import District, User
from kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from kernel.markers import N_
from reports.core import kinds
from reports.core.analytics import LocalDays
from reports.core.categories import Routing
from reports.core.lifecycle import (
    DAY,
    DEFAULT_CLOSE_AFTER_DAYS,
    OPEN,
    Actor,
    IllegalTransition,
)
from reports.core.location import Point, coarse
from reports.core.schemas import ReportCreate
from reports.services import aggregates
from reports.services.config import ReportConfig
from reports.services.models import (
    OrganisationStaff,
    Report,
    ReportPhoto,
    ReportStep,
)

SUPERVISING = frozenset({"supervisor", "admin"})


def illegal(exc: IllegalTransition) -> Conflict:
    allowed = ", ".join(exc.allowed) or "none"
    return Conflict(
        f"A report that is {exc.current} cannot become {exc.target}. "
        f"Allowed next states: {allowed}.",
        code="illegal_transition",
    )


def pending_answer_photos(db: Session, report_id: str) -> list[ReportPhoto]:
    """The organisation's photos not yet part of an answer, in id order."""
    return list(
        db.scalars(
            select(ReportPhoto)
            .where(
                ReportPhoto.report_id == report_id,
                ReportPhoto.purpose == "answer",
                ReportPhoto.answer.is_(None),  # type: ignore[union-attr]
            )
            .order_by(ReportPhoto.id)  # type: ignore[arg-type]
        ).all()
    )


class Receiving:
    """Reading reports, who may act on them, their clock, and receiving new ones."""

    def __init__(
        self,
        sequencer: Sequencer,
        clock: Callable[[], float] = time.time,
        *,
        close_after_days: int = DEFAULT_CLOSE_AFTER_DAYS,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
        on_status: Callable[[str], object] | None = None,
        time_zone: str = "UTC",
    ) -> None:
        self.sequencer = sequencer
        # Called with a report's id after a step's batch is durable (the status e-mail).
        self.on_status = on_status
        self.clock = clock
        self.close_after_days = close_after_days
        self.new_id = new_id
        self.config = ReportConfig()
        # The municipality's local days, by which the analytics count (§16.10).
        self.days = LocalDays(time_zone)

    def now(self) -> int:
        return int(self.clock())

    # --- who may do what ---------------------------------------------------------------
    def actor(self, db: Session, user: User, report: Report) -> Actor:
        """``supervisor`` or ``staff`` of the report's organisation; 403 otherwise."""
        if user.role in SUPERVISING:
            return "supervisor"
        if user.role == "org_staff":
            row = db.get(OrganisationStaff, user.id) if user.id is not None else None
            if row is not None and row.organisation == report.organisation:
                return "staff"
            raise Forbidden(
                N_("This report is another organisation's; only its staff may act on it."),
                code="other_organisation",
            )
        raise Forbidden(
            N_("Only the responsible organisation's staff or a supervisor may do this."),
            code="forbidden_role",
        )

    def can_see(self, db: Session, viewer: User | None, report: Report) -> bool:
        if report.public:
            return True
        if viewer is None:
            return False
        if viewer.id == report.reporter_id or viewer.role in SUPERVISING:
            return True
        return self.config.organisation_of(db, viewer) == report.organisation

    def get(self, db: Session, report_id: str, viewer: User | None) -> Report:
        report = db.get(Report, report_id) if len(report_id) == 32 else None
        if report is None or not self.can_see(db, viewer, report):
            raise NotFound(N_("There is no such report."), code="no_report")
        return report

    # --- the clock ---------------------------------------------------------------------
    def clock_now(self, report: Report, now: int) -> int:
        running = report.status in OPEN
        return report.clock_seconds + (max(0, now - report.clock_at) if running else 0)

    def overdue(self, report: Report, now: int) -> bool:
        return self.clock_now(report, now) > report.deadline_days * DAY

    # --- receiving ---------------------------------------------------------------------
    def create(self, reporter: User, data: ReportCreate) -> str:
        """Check, route and receive a report; returns its id."""
        if not data.description.strip():
            raise InvalidInput(
                N_("Describe the problem in a few words."),
                code="no_description",
                field="description",
            )
        point = Point(data.lat_e6, data.lon_e6)
        lat_e2, lon_e2 = coarse(point)
        report_id = self.new_id()

        def work(wdb: Session, log: BatchLog) -> str:
            district, routing = self._route(wdb, data, point)
            received = self._receive(
                wdb, log, reporter, data, report_id, district, routing, (lat_e2, lon_e2)
            )
            aggregates.settle(wdb)
            return received

        return self.sequencer.run(work).result

    def _route(self, db: Session, data: ReportCreate, point: Point) -> tuple[str, Routing]:
        districts = self.config.districts(db)
        if districts.known:
            district = districts.locate(point)
            if district is None:
                raise InvalidInput(
                    N_(
                        "The point on the map is outside the municipality: reports are "
                        "accepted only for places inside it."
                    ),
                    code="outside_municipality",
                    field="location",
                )
        else:
            if data.district is None or db.get(District, data.district) is None:
                raise InvalidInput(
                    N_("Choose the district where the problem is."),
                    code="invalid_district",
                    field="district",
                )
            district = data.district
        tree = self.config.tree(db)
        if data.category not in tree.categories:
            raise InvalidInput(
                N_("Choose one of the categories."), code="invalid_category", field="category"
            )
        routing = tree.route(data.category, district)
        if routing is None:
            raise InvalidInput(
                N_("No organisation answers reports of this category in this district yet."),
                code="no_route",
                field="category",
            )
        return district, routing

    def _receive(
        self,
        wdb: Session,
        log: BatchLog,
        reporter: User,
        data: ReportCreate,
        report_id: str,
        district: str,
        routing: Routing,
        cell: tuple[int, int],
    ) -> str:
        """The report's row, its first step and its ``report.received`` entry."""
        now = self.now()
        lat_e2, lon_e2 = cell
        report = Report(
            id=report_id,
            reporter_id=reporter.id,  # type: ignore[arg-type]
            category=data.category,
            district=district,
            organisation=routing.organisation,
            description=data.description.strip(),
            lat_e6=data.lat_e6,
            lon_e6=data.lon_e6,
            public=data.public,
            status="received",
            deadline_days=routing.deadline_days,
            first_response_days=routing.first_response_days,
            received_at=now,
            clock_at=now,
            updated_at=now,
        )
        wdb.add(report)
        wdb.flush()
        aggregates.received(wdb, report, self.days)
        appended = log.append(
            kinds.REPORT_RECEIVED,
            {
                "report": report_id,
                "category": data.category,
                "district": district,
                "organisation": routing.organisation,
                "deadline_days": routing.deadline_days,
                "first_response_days": routing.first_response_days,
                "lat_e2": lat_e2,
                "lon_e2": lon_e2,
                "at": now,
            },
        )
        wdb.add(
            ReportStep(
                report_id=report_id,
                from_status=None,
                to_status="received",
                organisation=routing.organisation,
                at=now,
                seq=appended.seq,
            )
        )
        return report_id
