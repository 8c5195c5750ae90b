"""Reports after their receipt (``reports.services.receiving``): taking in work,
answering with photo proof, rating, reassigning, sending back, closing unrated answers,
followers, and the public statistics.

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

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.services.models import LogEntry
from audit.services.store import BatchLog
from kernel.accounts.models import User
from kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from kernel.markers import N_
from reports.core import kinds
from reports.core.lifecycle import (
    DAY,
    OPEN,
    Actor,
    IllegalTransition,
    after_rating,
    check_transition,
)
from reports.core.stats import Running, Statistics
from reports.core.verify import report_entries
from reports.services import aggregates
from reports.services.models import Report, ReportFollower, ReportStep
from reports.services.receiving import Receiving, illegal, pending_answer_photos


class ReportService(Receiving):
    """The steps of a report's life after its receipt, followers and statistics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._statistics_lock = threading.Lock()
        self._running: Running | None = None

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
            if report.first_response_s is None:
                report.first_response_s = report.first_response_at - report.received_at
        if target == "answered" and report.first_answer_s is None:
            # As the statistics count it (§16.5): the first answer, and whether the
            # deadline clock had passed the deadline by then.
            report.first_answer_s = now - report.received_at
            report.answered_in_time = report.clock_seconds <= report.deadline_days * DAY
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
        aggregates.note(wdb, report, self.days)
        return report

    def _step(self, work: Any) -> Any:
        """Run a step as one work item of the sequencer, the analytics' aggregates kept
        in the same transaction (``reports.services.aggregates``)."""

        def counted(wdb: Session, log: BatchLog) -> Any:
            try:
                result = work(wdb, log)
            except BaseException:
                aggregates.forget(wdb)
                raise
            aggregates.settle(wdb)
            return result

        return self.sequencer.run(counted).result

    def take(self, user: User, report_id: str) -> None:
        """Staff start work on a received report."""

        def work(wdb: Session, log: BatchLog) -> None:
            report = self._locked(wdb, report_id)
            self._move(wdb, log, report, "in_work", self.actor(wdb, user, report))

        self._step(work)
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

        self._step(work)
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
            report.ratings += 1
            report.rating_sum += rating
            report.rating_comment = comment.strip() or None
            if target == "reopened":
                report.reopened += 1
            else:
                report.closed_at = report.updated_at
            return target

        result: str = self._step(work)
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

        self._step(work)
        self._changed(report_id)

    def send_back(self, user: User, report_id: str) -> None:
        """A supervisor sends a reopened report back to work."""

        def work(wdb: Session, log: BatchLog) -> None:
            report = self._locked(wdb, report_id)
            self._move(wdb, log, report, "in_work", self.actor(wdb, user, report))

        self._step(work)
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
                aggregates.note(wdb, report, self.days)
                self._move(wdb, log, report, "closed", "system")
                report.closed_at = report.updated_at
            return [r.id for r in due]

        closed: list[str] = self._step(work)
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
        operator who relabels a row must not hide an entry from the published figures.

        The replay is kept between requests, keyed by the log's size: a request reads
        only the entries appended since the last one (none when the log has not grown),
        and starts again from the first entry when the log is shorter than the replay."""
        size = self.sequencer.store.size(db)
        with self._statistics_lock:
            running = self._running
            if running is None or size < running.size:
                running = Running()
            if running.figures is not None and running.size == size:
                return running.figures
            lines = db.scalars(
                select(LogEntry.data)
                .where(LogEntry.seq >= running.size, LogEntry.seq < size)  # type: ignore[operator]
                .order_by(LogEntry.seq)  # type: ignore[arg-type]
                .execution_options(yield_per=5000)
            )
            # A log that does not replay raises here and leaves no replay behind.
            self._running = None
            figures = running.feed(report_entries(lines), size)
            self._running = running
            return figures
