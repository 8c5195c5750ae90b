"""trustees

The key ceremony of elections with trustees (dealings and acknowledgements) and the
trustees' key shares released after the close (docs/protocol.md §14).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 16:20:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ceremony_dealing",
        sa.Column("election_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ceremony", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("dealer", sa.Integer(), nullable=False),
        sa.Column("signed", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["election.id"]),
        sa.PrimaryKeyConstraint("election_id", "ceremony", "dealer"),
    )
    op.create_table(
        "ceremony_ack",
        sa.Column("election_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ceremony", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("trustee", sa.Integer(), nullable=False),
        sa.Column("signed", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["election.id"]),
        sa.PrimaryKeyConstraint("election_id", "ceremony", "trustee"),
    )
    op.create_table(
        "trustee_key_share",
        sa.Column("election_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("trustee", sa.Integer(), nullable=False),
        sa.Column("key_share", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["election.id"]),
        sa.PrimaryKeyConstraint("election_id", "trustee"),
    )


def downgrade() -> None:
    op.drop_table("trustee_key_share")
    op.drop_table("ceremony_ack")
    op.drop_table("ceremony_dealing")
