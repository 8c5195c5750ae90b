"""The reports' demo data: a month with overdue, reopened and late reports, all of it
through the services, so the log's statistics recompute and the lists are alive."""

from __future__ import annotations

from fractions import Fraction

import pytest
from litestar import Litestar
from sqlalchemy import select

from audit.services.models import LogEntry
from kernel.settings import Settings
from reports.core.verify import verify_reports
from tests.support.accounts import Client
from veche.demo_reports import load_reports_demo
from veche.setup import DEMO_DISTRICTS, DEMO_USERS, add_districts, create_user


@pytest.mark.slow
# The demo runs on the embedded SQLite database, as `make demo` does.
@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_a_demo_month(app: Litestar, settings: Settings, client: Client) -> None:
    add_districts(settings, app.state.engine, DEMO_DISTRICTS)
    for user in DEMO_USERS:
        create_user(settings, app.state.engine, user)
    received = load_reports_demo(app.state, days=30, per_day=4)
    stats = client.get("/api/v1/reports/statistics").json()
    assert stats["reports"] == received > 60
    assert 0 < Fraction(stats["reopen_rate"]) < 1
    assert 0 < Fraction(stats["within_deadline"]) < 1
    assert stats["answer_median_s"] < stats["answer_p90_s"]
    with app.state.read_sessions() as db:
        lines = list(db.scalars(select(LogEntry.data).order_by(LogEntry.seq)).all())
        overdue = app.state.report_views.overdue(db)
    ok, summary, document = verify_reports(lines)
    assert ok, summary
    assert document["reports"]["statistics"] == stats
    assert any(r.status == "reopened" for r in overdue)
    assert any(r.status in ("received", "in_work") for r in overdue)
