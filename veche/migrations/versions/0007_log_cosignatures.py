"""log cosignatures

Witnesses' cosignature lines on the log's checkpoints (docs/protocol.md §15.7).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_cosignature",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("witness", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("line", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness"),
    )


def downgrade() -> None:
    op.drop_table("log_cosignature")
