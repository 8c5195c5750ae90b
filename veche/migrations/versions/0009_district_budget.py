"""district budget

Each district's budget in minor units (kopecks): the amount a new programme offers for
the district unless the administrator types another. Existing districts get 0.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 16:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("district", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("budget", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("district", schema=None) as batch_op:
        batch_op.drop_column("budget")
