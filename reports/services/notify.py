"""E-mail to a report's reporter and followers when its status changes, through the
deployment's SMTP settings (``kernel.mail``), in the deployment's language.

Sent after the step's batch is durable, from one background thread, so a slow or
absent mail server never delays or undoes a step; a failure is logged, not raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import i18n
from kernel.accounts.models import User
from kernel.mail import Mailer, MailError, OutgoingMail
from kernel.markers import N_
from reports.core.display import STATUS_NAMES
from reports.services.models import Report, ReportFollower

log = logging.getLogger("veche.reports")


def status_mail(lang: str, to: str, report: Report, link: str) -> OutgoingMail:
    t = i18n.translations(lang).gettext
    status = t(STATUS_NAMES.get(report.status, report.status))
    subject = t(N_("Your report is now: {status}")).format(status=status)
    lines = [
        t(N_("The status of the report “{text}” changed to: {status}.")).format(
            text=report.description[:80], status=status
        ),
    ]
    if report.status == "answered" and report.answer_text:
        lines.append(t(N_("The organisation answered: {answer}")).format(answer=report.answer_text))
        lines.append(t(N_("Rate the answer on the report's page:")))
    else:
        lines.append(t(N_("See the report:")))
    lines.append(link)
    return OutgoingMail(to=to, subject=subject, body="\n\n".join(lines) + "\n")


class ReportMail:
    def __init__(
        self,
        mailer: Mailer,
        read_sessions: Callable[[], AbstractContextManager[Session]],
        *,
        public_url: str,
        lang: str,
    ) -> None:
        self.mailer = mailer
        self.read_sessions = read_sessions
        self.public_url = public_url.rstrip("/")
        self.lang = lang
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="veche-report-mail")

    def status_changed(self, report_id: str) -> Future[int]:
        """Queue the messages about ``report_id``'s new status; the future gives how many
        were handed to the server."""
        return self._pool.submit(self._send, report_id)

    def _send(self, report_id: str) -> int:
        with self.read_sessions() as db:
            report = db.get(Report, report_id)
            if report is None:
                return 0
            followers = select(ReportFollower.user_id).where(ReportFollower.report_id == report_id)
            people = db.scalars(
                select(User).where(
                    (User.id == report.reporter_id) | User.id.in_(followers)  # type: ignore[union-attr]
                )
            ).all()
            messages = [
                status_mail(self.lang, u.email, report, f"{self.public_url}/reports/{report_id}")
                for u in people
                if u.email_confirmed_at is not None
            ]
        sent = 0
        for message in messages:
            try:
                sent += 1 if self.mailer.send(message) else 0
            except MailError:
                log.exception("a report's status mail was not sent")
        return sent

    def close(self) -> None:
        """Drop the messages not yet started; wait for the one being sent, so that its
        database connection is returned before the engine is disposed."""
        self._pool.shutdown(wait=True, cancel_futures=True)
