"""Photos of reports: the reporter's of the problem (up to 5, while the report is
received) and the organisation's proof of the work (up to 5 per answer). Checked by
their bytes under the upload rules every domain shares (``kernel.images``), stored under
the data directory with a random name; an answer's photos go into the log as SHA-256
(docs/protocol.md §16.4), the reporter's never do.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.accounts.models import User
from kernel.errors import Conflict, NotFound
from kernel.images import check_upload
from kernel.markers import N_
from reports.core.lifecycle import MAX_PHOTOS, OPEN
from reports.services.models import ReportPhoto
from reports.services.service import ReportService, pending_answer_photos


class ReportPhotos:
    def __init__(self, reports: ReportService, data_dir: Path) -> None:
        self.reports = reports
        self.directory = data_dir / "report-photos"

    def add(self, db: Session, user: User, report_id: str, data: bytes) -> str:
        """A photo by the reporter (of the problem) or by staff (proof for the answer)."""
        report = self.reports.get(db, report_id, user)
        if report.reporter_id == user.id:
            purpose = "report"
            if report.status != "received":
                raise Conflict(
                    N_("Photos of the problem can be added only before work starts."),
                    code="not_received",
                )
            count = db.scalar(
                select(func.count())
                .select_from(ReportPhoto)
                .where(ReportPhoto.report_id == report_id, ReportPhoto.purpose == "report")
            )
        else:
            self.reports.actor(db, user, report)
            purpose = "answer"
            if report.status not in OPEN:
                raise Conflict(
                    N_("Proof photos can be added only while the report is open."),
                    code="not_open",
                )
            count = len(pending_answer_photos(db, report_id))
        if (count or 0) >= MAX_PHOTOS:
            raise Conflict(N_("At most 5 photos can be added."), code="too_many_photos")
        info = check_upload(data)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16)
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, self.directory / f"{name}.{info.extension}")
        db.add(
            ReportPhoto(
                id=name,
                report_id=report_id,
                purpose=purpose,
                content_type=info.content_type,
                extension=info.extension,
                size=len(data),
                width=info.width,
                height=info.height,
                sha256=hashlib.sha256(data).hexdigest(),
                created_at=self.reports.now(),
            )
        )
        db.flush()
        return name

    def urls(self, db: Session, report_id: str) -> tuple[list[str], list[str]]:
        """The report's photos and the photos of its answers."""
        rows = db.scalars(
            select(ReportPhoto).where(ReportPhoto.report_id == report_id).order_by(ReportPhoto.id)  # type: ignore[arg-type]
        ).all()
        own = [f"/api/v1/reports/photos/{p.id}" for p in rows if p.purpose == "report"]
        answer = [
            f"/api/v1/reports/photos/{p.id}"
            for p in rows
            if p.purpose == "answer" and p.answer is not None
        ]
        return own, answer

    def read(self, db: Session, viewer: User | None, photo_id: str) -> tuple[bytes, str]:
        photo = db.get(ReportPhoto, photo_id) if len(photo_id) == 32 else None
        if photo is not None:
            self.reports.get(db, photo.report_id, viewer)  # 404 unless visible
        path = self.directory / f"{photo_id}.{photo.extension}" if photo else None
        if photo is None or path is None or not path.is_file():
            raise NotFound(N_("There is no such photo."), code="no_photo")
        return path.read_bytes(), photo.content_type


__all__ = ["ReportPhotos", "pending_answer_photos"]
