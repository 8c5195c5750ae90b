"""report analytics

The management-centre analytics of resident reports (docs/protocol.md §16.10): each
report's facts (seconds to the first response and to the first answer, whether that
answer was in time, its ratings' count and sum), indexes for exact percentiles, and the
aggregates kept by every step — reports by local day (the municipality's time zone, the
setting ``time_zone``, which ``veche.schema.migrate`` hands over), category, district and
organisation, and by local month and 0.01° cell for the map — and the zone they count
in. Existing reports are counted on upgrade.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:30:00.000000
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import context, op
from sqlalchemy.orm import Session

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_answer_s", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("answered_in_time", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("ratings", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("rating_sum", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            "ix_report_first_response_s",
            ["first_response_s", "received_at", "category", "district", "organisation"],
            unique=False,
        )
        batch_op.create_index(
            "ix_report_received_place",
            ["received_at", "category", "district", "organisation", "lat_e6", "lon_e6"],
            unique=False,
        )
        batch_op.create_index(
            "ix_report_first_answer_s",
            ["first_answer_s", "received_at", "category", "district", "organisation"],
            unique=False,
        )
    op.create_table(
        "report_daily",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("in_time", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        sa.Column("r0", sa.Integer(), nullable=False),
        sa.Column("r1", sa.Integer(), nullable=False),
        sa.Column("r2", sa.Integer(), nullable=False),
        sa.Column("r3", sa.Integer(), nullable=False),
        sa.Column("r4", sa.Integer(), nullable=False),
        sa.Column("r5", sa.Integer(), nullable=False),
        sa.Column("r6", sa.Integer(), nullable=False),
        sa.Column("r7", sa.Integer(), nullable=False),
        sa.Column("r8", sa.Integer(), nullable=False),
        sa.Column("r9", sa.Integer(), nullable=False),
        sa.Column("r10", sa.Integer(), nullable=False),
        sa.Column("r11", sa.Integer(), nullable=False),
        sa.Column("r12", sa.Integer(), nullable=False),
        sa.Column("a0", sa.Integer(), nullable=False),
        sa.Column("a1", sa.Integer(), nullable=False),
        sa.Column("a2", sa.Integer(), nullable=False),
        sa.Column("a3", sa.Integer(), nullable=False),
        sa.Column("a4", sa.Integer(), nullable=False),
        sa.Column("a5", sa.Integer(), nullable=False),
        sa.Column("a6", sa.Integer(), nullable=False),
        sa.Column("a7", sa.Integer(), nullable=False),
        sa.Column("a8", sa.Integer(), nullable=False),
        sa.Column("a9", sa.Integer(), nullable=False),
        sa.Column("a10", sa.Integer(), nullable=False),
        sa.Column("a11", sa.Integer(), nullable=False),
        sa.Column("a12", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "category", "district", "organisation"),
    )
    op.create_table(
        "report_cell_month",
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("organisation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("lat_e2", sa.Integer(), nullable=False),
        sa.Column("lon_e2", sa.Integer(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "category", "district", "organisation", "lat_e2", "lon_e2"
        ),
    )
    op.create_table(
        "report_analytics_zone",
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("time_zone"),
    )
    _backfill(op.get_bind(), context.config.attributes.get("time_zone") or "UTC")


def _backfill(bind: sa.Connection, time_zone: str) -> None:
    """Each existing report's facts from its steps and its ratings' log entries, then the
    aggregates from the rows, by the local days of ``time_zone``."""
    from reports.core.analytics import LocalDays
    from reports.core.lifecycle import DAY, Step, clock_seconds
    from reports.services.aggregates import rebuild

    steps: dict[str, list[tuple[str, int, int, str | None]]] = {}
    for report_id, to_status, at, seq, from_status in bind.execute(
        sa.text("SELECT report_id, to_status, at, seq, from_status FROM report_step ORDER BY seq")
    ):
        steps.setdefault(report_id, []).append((to_status, at, seq, from_status))
    for report_id, received_at, deadline_days, first_response_at in bind.execute(
        sa.text("SELECT id, received_at, deadline_days, first_response_at FROM report")
    ).all():
        mine = [s for s in steps.get(report_id, []) if s[3] is not None]
        values: dict[str, object] = {"id": report_id, "ratings": 0, "rating_sum": 0}
        values["first_response_s"] = (
            None if first_response_at is None else first_response_at - received_at
        )
        values["first_answer_s"] = values["answered_in_time"] = None
        timeline = [Step(s[0], s[1]) for s in mine]  # type: ignore[arg-type]
        for to_status, at, seq, from_status in mine:
            if to_status == "answered" and values["first_answer_s"] is None:
                values["first_answer_s"] = at - received_at
                clock = clock_seconds(received_at, timeline, at)
                values["answered_in_time"] = clock <= deadline_days * DAY
            if from_status == "answered" and to_status in ("closed", "reopened"):
                data = bind.execute(
                    sa.text("SELECT data FROM log_entry WHERE seq = :seq"), {"seq": seq}
                ).scalar()
                body = json.loads(bytes(data)).get("body", {}) if data else {}
                if "rating" in body:
                    values["ratings"] = int(values["ratings"]) + 1  # type: ignore[call-overload]
                    values["rating_sum"] = int(values["rating_sum"]) + int(body["rating"])  # type: ignore[call-overload]
        bind.execute(
            sa.text(
                "UPDATE report SET first_response_s = :first_response_s, "
                "first_answer_s = :first_answer_s, answered_in_time = :answered_in_time, "
                "ratings = :ratings, rating_sum = :rating_sum WHERE id = :id"
            ),
            values,
        )
    with Session(bind=bind) as session:
        rebuild(session, LocalDays(time_zone))
        session.flush()


def downgrade() -> None:
    op.drop_table("report_analytics_zone")
    op.drop_table("report_cell_month")
    op.drop_table("report_daily")
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_first_answer_s")
        batch_op.drop_index("ix_report_received_place")
        batch_op.drop_index("ix_report_first_response_s")
        batch_op.drop_column("rating_sum")
        batch_op.drop_column("ratings")
        batch_op.drop_column("answered_in_time")
        batch_op.drop_column("first_answer_s")
        batch_op.drop_column("first_response_s")
