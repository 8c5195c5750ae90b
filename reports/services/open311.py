"""Open311 clients: their API keys (stored as SHA-256), and the reports as GeoReport v2
services and service requests (docs/protocol.md §16.9)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.accounts.models import User
from kernel.errors import Forbidden, NotFound
from kernel.markers import N_
from reports.core import open311
from reports.services.models import Open311Key, Report, ReportPhoto
from reports.services.service import ReportService

MAX_REQUESTS = 1000


def key_hash(key: str) -> str:
    return hashlib.sha256(b"veche/open311-key/v1\n" + key.encode()).hexdigest()


class Open311:
    def __init__(self, reports: ReportService, public_url: str) -> None:
        self.reports = reports
        self.public_url = public_url.rstrip("/")

    def new_key(self, db: Session, user: User, label: str) -> str:
        """A new key for ``user``; shown once, only its hash is kept."""
        key = secrets.token_urlsafe(32)
        db.add(
            Open311Key(
                key_hash=key_hash(key),
                user_id=user.id,
                label=label[:200],
                created_at=self.reports.now(),  # type: ignore[arg-type]
            )
        )
        db.flush()
        return key

    def client(self, db: Session, key: str) -> User:
        row = db.get(Open311Key, key_hash(key)) if key else None
        user = db.get(User, row.user_id) if row is not None else None
        if user is None:
            raise Forbidden(N_("The api_key is missing or not valid."), code="bad_api_key")
        return user

    def services(self, db: Session, lang: str) -> list[dict[str, Any]]:
        tree = self.reports.config.tree(db)

        def title(code: str | None) -> str:
            if code is None:
                return ""
            c = tree.categories[code]
            return c.title_ru if lang == "ru" else c.title_en

        return [
            open311.service(c.code, title(c.code), title(c.parent))
            for c in sorted(tree.categories.values(), key=lambda c: c.code)
        ]

    def requests(
        self,
        db: Session,
        lang: str,
        *,
        ids: list[str] | None = None,
        codes: list[str] | None = None,
        start: int | None = None,
        end: int | None = None,
        statuses: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        query = select(Report).where(Report.public.is_(True))  # type: ignore[attr-defined]
        if ids:
            query = query.where(Report.id.in_(ids))  # type: ignore[attr-defined]
        else:
            if codes:
                query = query.where(Report.category.in_(codes))  # type: ignore[attr-defined]
            if start is not None:
                query = query.where(Report.received_at >= start)
            if end is not None:
                query = query.where(Report.received_at <= end)
        rows = list(db.scalars(query.order_by(Report.received_at.desc()).limit(MAX_REQUESTS)))  # type: ignore[attr-defined]
        if statuses and not ids:
            rows = [r for r in rows if open311.open311_status(r.status) in statuses]
        tree = self.reports.config.tree(db)
        out = []
        for r in rows:
            category = tree.categories.get(r.category)
            name = (
                (category.title_ru if lang == "ru" else category.title_en)
                if category
                else r.category
            )
            photo = db.scalars(
                select(ReportPhoto.id).where(ReportPhoto.report_id == r.id).order_by(ReportPhoto.id)  # type: ignore[arg-type]
            ).first()
            media = f"{self.public_url}/api/v1/reports/photos/{photo}" if photo else None
            out.append(open311.request(r.model_dump(), service_name=name, media_url=media))
        return out

    def one(self, db: Session, lang: str, report_id: str) -> list[dict[str, Any]]:
        found = self.requests(db, lang, ids=[report_id])
        if not found:
            raise NotFound(N_("There is no such report."), code="no_report")
        return found
