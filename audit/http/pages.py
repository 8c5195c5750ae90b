"""The audit log explorer: the latest checkpoint and its history, entries by page and by
kind, and one entry with its exact canonical bytes, leaf hash, link to the previous entry
and inclusion proof (RFC 9162 §2.1.3) in the latest tree.

Pages only: every number here is also served by the log API (``audit.api``), which is
what auditors should rely on; ``veche verify`` checks it all from the raw entries.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from sqlalchemy import func, select

from audit.http.state import LogState
from audit.services.models import LogCheckpoint, LogEntry
from audit.services.store import LogStore
from kernel.errors import NotFound
from kernel.web import DB, Viewer, render

PAGE_SIZE = 50


def _summary(seq: int, data: bytes, leaf: bytes) -> dict[str, Any]:
    entry = json.loads(data)
    return {
        "seq": seq,
        "kind": entry.get("kind", ""),
        "at": entry.get("at", ""),
        "hash": leaf.hex(),
    }


def _when(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _page_number(value: int | None, pages: int) -> int:
    if value is None:
        return max(pages - 1, 0)
    return min(max(value, 0), max(pages - 1, 0))


class ExplorerPages(Controller):
    include_in_schema = False

    @get("/log", sync_to_thread=True)
    def overview(
        self, request: Request[Any, Any, Any], db: DB, state: LogState, viewer: Viewer
    ) -> Response[str]:
        store: LogStore = state.log_store
        with db.begin():
            latest = store.latest_checkpoint(db)
            size = store.size(db)
            kinds = db.execute(
                select(LogEntry.kind, func.count()).group_by(LogEntry.kind).order_by(LogEntry.kind)
            ).all()
            recent = db.execute(
                select(LogEntry.seq, LogEntry.data, LogEntry.leaf_hash)
                .order_by(LogEntry.seq.desc())  # type: ignore[attr-defined]
                .limit(10)
            ).all()
        return render(
            request,
            "explorer/overview.html",
            {
                "latest": latest,
                "size": size,
                "kinds": [{"kind": k, "count": int(c)} for k, c in kinds],
                "recent": [_summary(s, bytes(d), bytes(h)) for s, d, h in recent],
                "key": store.key_info,
                "base_url": str(request.base_url).rstrip("/"),
            },
            viewer=viewer,
        )

    @get("/log/entries", sync_to_thread=True)
    def entries(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: LogState,
        viewer: Viewer,
        page: FromQuery[int | None] = None,
        kind: FromQuery[str | None] = None,
    ) -> Response[str]:
        store: LogStore = state.log_store
        kind = kind or None
        with db.begin():
            where = [LogEntry.kind == kind] if kind else []
            total = int(db.scalar(select(func.count()).select_from(LogEntry).where(*where)) or 0)
            pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
            number = _page_number(page, pages)
            rows = db.execute(
                select(LogEntry.seq, LogEntry.data, LogEntry.leaf_hash)
                .where(*where)
                .order_by(LogEntry.seq)
                .offset(number * PAGE_SIZE)
                .limit(PAGE_SIZE)
            ).all()
            kinds = db.scalars(select(LogEntry.kind).distinct().order_by(LogEntry.kind)).all()
            size = store.size(db)
        return render(
            request,
            "explorer/entries.html",
            {
                "rows": [_summary(s, bytes(d), bytes(h)) for s, d, h in rows],
                "page": number,
                "pages": pages,
                "kind": kind,
                "kinds": list(kinds),
                "total": total,
                "size": size,
            },
            viewer=viewer,
        )

    @get("/log/entries/{seq:int}", sync_to_thread=True)
    def entry(
        self,
        request: Request[Any, Any, Any],
        seq: FromPath[int],
        db: DB,
        state: LogState,
        viewer: Viewer,
    ) -> Response[str]:
        store: LogStore = state.log_store
        with db.begin():
            row = store.entry(db, seq) if 0 <= seq < 2**62 else None
            if row is None:
                raise NotFound("There is no such entry in the log.", code="no_such_entry")
            latest = store.latest_checkpoint(db)
            assert latest is not None
            proof = store.inclusion_proof(db, seq, latest.size)
            size = store.size(db)
        data = bytes(row.data)
        entry = json.loads(data)
        return render(
            request,
            "explorer/entry.html",
            {
                "seq": seq,
                "text": data.decode("utf-8"),
                "pretty": json.dumps(entry, indent=2, ensure_ascii=False, sort_keys=True),
                "entry": entry,
                "leaf": bytes(row.leaf_hash).hex(),
                "checkpoint": latest,
                "proof": [p.hex() for p in proof],
                "size": size,
            },
            viewer=viewer,
        )

    @get("/log/checkpoints", sync_to_thread=True)
    def checkpoints(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        viewer: Viewer,
        page: FromQuery[int] = 0,
    ) -> Response[str]:
        with db.begin():
            total = int(db.scalar(select(func.count()).select_from(LogCheckpoint)) or 0)
            pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
            number = min(max(page, 0), pages - 1)
            rows = db.scalars(
                select(LogCheckpoint)
                .order_by(LogCheckpoint.size.desc())  # type: ignore[attr-defined]
                .offset(number * PAGE_SIZE)
                .limit(PAGE_SIZE)
            ).all()
        return render(
            request,
            "explorer/checkpoints.html",
            {
                "rows": [
                    {"size": r.size, "root": bytes(r.root).hex(), "at": _when(r.at), "note": r.note}
                    for r in rows
                ],
                "page": number,
                "pages": pages,
                "total": total,
            },
            viewer=viewer,
        )
