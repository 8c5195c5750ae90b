"""Reports: receiving, routing, taking in work, answering with photo proof, rating,
reassigning, sending back, closing unrated answers, and the public statistics.

Every change of a report runs as one work item of the log's sequencer, so the row and
its entry (docs/protocol.md §16.4) commit together; the checks are made inside the work
item on the rows it is about to change. Status changes go only through ``_move``, which
asks the pure table in ``reports.core.lifecycle`` and advances the deadline clock.

Who may act: the reporter on their report (photos while it is received, the rating);
``org_staff`` of the report's organisation, and only of it (take, answer photos, answer,
reassign); a ``supervisor`` (or ``admin``) on any report (also sending a reopened one
back to work). Staff of another organisation get a 403 that says so.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.services.models import LogEntry
from audit.services.sequencer import Sequencer
from audit.services.store import BatchLog
from kernel.accounts.models import District, User
from kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from kernel.markers import N_
from reports.core import kinds
from reports.core.categories import Routing
from reports.core.lifecycle import (
    DAY,
    DEFAULT_CLOSE_AFTER_DAYS,
    OPEN,
    Actor,
    IllegalTransition,
    after_rating,
    check_transition,
)
from reports.core.location import Point, coarse
from reports.core.schemas import ReportCreate
from reports.core.stats import Statistics
from reports.core.stats import statistics as compute_statistics
from reports.core.verify import report_entries
from reports.services.config import ReportConfig
from reports.services.models import (
    OrganisationStaff,
    Report,
    ReportFollower,
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


class ReportService:
    def __init__(
        self,
        sequencer: Sequencer,
        clock: Callable[[], float] = time.time,
        *,
        close_after_days: int = DEFAULT_CLOSE_AFTER_DAYS,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
        on_status: Callable[[str], object] | None = None,
    ) -> None:
        self.sequencer = sequencer
        # Called with a report's id after a step's batch is durable (the status e-mail).
        self.on_status = on_status
        self.clock = clock
        self.close_after_days = close_after_days
        self.new_id = new_id
        self.config = ReportConfig()

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
            return self._receive(
                wdb, log, reporter, data, report_id, district, routing, (lat_e2, lon_e2)
            )

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

    # --- steps -------------------------------------------------------------------------
    def _move(
        self,
        wdb: Session,
        log: BatchLog,
        report: Report,
        target: str,
        actor: Actor,
        entry: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """The one place a report's status changes: checked, clocked, recorded, logged
        (``entry`` replaces the default ``report.status`` for answers and ratings)."""
        try:
            check_transition(report.status, target, actor)
        except IllegalTransition as exc:
            raise illegal(exc) from None
        now = max(self.now(), report.updated_at)
        report.clock_seconds = self.clock_now(report, now)
        report.clock_at = now
        source = report.status
        if source == "received" and target in ("in_work", "answered"):
            report.first_response_at = report.first_response_at or now
        report.status = target
        report.updated_at = now
        kind, body = entry or (
            kinds.REPORT_STATUS,
            {
                "report": report.id,
                "from_status": source,
                "to_status": target,
                "organisation": report.organisation,
            },
        )
        appended = log.append(kind, body | {"at": now})
        wdb.add(
            ReportStep(
                report_id=report.id,
                from_status=source,
                to_status=target,
                organisation=report.organisation,
                at=now,
                seq=appended.seq,
            )
        )
        wdb.flush()

    def _locked(self, wdb: Session, report_id: str) -> Report:
        report = wdb.get(Report, report_id)
        if report is None:
            raise NotFound(N_("There is no such report."), code="no_report")
        return report

    def take(self, user: User, report_id: str) -> None:
        """Staff start work on a received report."""

        def work(wdb: Session, log: BatchLog) -> None:
            report = self._locked(wdb, report_id)
            self._move(wdb, log, report, "in_work", self.actor(wdb, user, report))

        self.sequencer.run(work)
        self._changed(report_id)

    def _changed(self, *report_ids: str) -> None:
        if self.on_status is not None:
            for report_id in report_ids:
                self.on_status(report_id)

    def answer(self, user: User, report_id: str, text: str) -> None:
        """The organisation's answer: text and the photos uploaded for it (at least one)."""
        if not text.strip():
            raise InvalidInput(
                N_("Write what was done: an answer needs text."),
                code="no_answer_text",
                field="text",
            )

        def work(wdb: Session, log: BatchLog) -> None:
            report = self._locked(wdb, report_id)
            actor = self.actor(wdb, user, report)
            photos = pending_answer_photos(wdb, report_id)
            if not photos:
                raise InvalidInput(
                    N_("An answer needs photo proof: add at least one photo of the work."),
                    code="no_answer_photo",
                    field="photos",
                )
            number = report.reopened + 1
            for photo in photos:
                photo.answer = number
            report.answer_text = text.strip()
            entry = (
                kinds.REPORT_ANSWERED,
                {
                    "report": report.id,
                    "organisation": report.organisation,
                    "photos": [p.sha256 for p in photos],
                },
            )
            self._move(wdb, log, report, "answered", actor, entry)
            report.answered_at = report.updated_at

        self.sequencer.run(work)
        self._changed(report_id)

    def rate(self, user: User, report_id: str, rating: int, comment: str) -> str:
        """The reporter's rating of the answer: 3 or more closes, less reopens."""
        target = after_rating(rating)
        if target == "reopened" and not comment.strip():
            raise InvalidInput(
                N_("Say what is still wrong: a rating below 3 needs a comment."),
                code="no_comment",
                field="comment",
            )

        def work(wdb: Session, log: BatchLog) -> str:
            report = self._locked(wdb, report_id)
            if report.reporter_id != user.id:
                raise Forbidden(N_("Only the reporter rates the answer."), code="not_reporter")
            entry = (kinds.REPORT_RATED, {"report": report.id, "rating": rating})
            self._move(wdb, log, report, target, "reporter", entry)
            report.rating = rating
            report.rating_comment = comment.strip() or None
            if target == "reopened":
                report.reopened += 1
            else:
                report.closed_at = report.updated_at
            return target

        result = self.sequencer.run(work).result
        self._changed(report_id)
        return result

    def reassign(self, user: User, report_id: str, organisation: str) -> None:
        """Send an open report to another organisation (it starts there as received)."""

        def work(wdb: Session, log: BatchLog) -> None:
            report = self._locked(wdb, report_id)
            actor = self.actor(wdb, user, report)
            if organisation not in self.config.tree(wdb).organisations:
                raise InvalidInput(
                    N_("There is no such organisation."),
                    code="unknown_organisation",
                    field="organisation",
                )
            if organisation == report.organisation:
                raise Conflict(
                    N_("The report is already with this organisation."), code="same_organisation"
                )
            report.organisation = organisation
            self._move(wdb, log, report, "received", actor)

        self.sequencer.run(work)
        self._changed(report_id)

    def send_back(self, user: User, report_id: str) -> None:
        """A supervisor sends a reopened report back to work."""

        def work(wdb: Session, log: BatchLog) -> None:
            report = self._locked(wdb, report_id)
            self._move(wdb, log, report, "in_work", self.actor(wdb, user, report))

        self.sequencer.run(work)
        self._changed(report_id)

    def close_unrated(self) -> int:
        """Close every answer left unrated for ``close_after_days``; how many closed."""
        limit = self.now() - self.close_after_days * DAY

        def work(wdb: Session, log: BatchLog) -> list[str]:
            due = wdb.scalars(
                select(Report).where(
                    Report.status == "answered",
                    Report.answered_at <= limit,  # type: ignore[operator]
                )
            ).all()
            for report in due:
                self._move(wdb, log, report, "closed", "system")
                report.closed_at = report.updated_at
            return [r.id for r in due]

        closed = self.sequencer.run(work).result
        self._changed(*closed)
        return len(closed)

    # --- followers ---------------------------------------------------------------------
    def follow(self, db: Session, user: User, report_id: str) -> int:
        """ "Me too": follow an open report instead of reporting it again."""
        report = self.get(db, report_id, user)
        if report.status not in OPEN:
            raise Conflict(N_("Only open reports can be followed."), code="not_open")
        if report.reporter_id == user.id:
            raise Conflict(N_("This is your own report."), code="own_report")
        if db.get(ReportFollower, (report_id, user.id)) is None:
            db.add(ReportFollower(report_id=report_id, user_id=user.id, at=self.now()))  # type: ignore[arg-type]
            db.flush()
        return self.followers(db, report_id)

    def followers(self, db: Session, report_id: str) -> int:
        count = db.scalar(
            select(func.count())
            .select_from(ReportFollower)
            .where(ReportFollower.report_id == report_id)
        )
        return int(count or 0)

    # --- statistics --------------------------------------------------------------------
    def statistics(self, db: Session) -> Statistics:
        """The figures of §16.5, computed from the log's entry bytes exactly as the
        verifier does. Every entry is read: the ``kind`` column is only an index, and an
        operator who relabels a row must not hide an entry from the published figures."""
        lines = db.scalars(
            select(LogEntry.data).order_by(LogEntry.seq).execution_options(yield_per=5000)  # type: ignore[arg-type]
        )
        return compute_statistics(report_entries(lines))
