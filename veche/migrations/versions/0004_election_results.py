"""election results

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 03:53:19.716125
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("election", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.LargeBinary(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("election", schema=None) as batch_op:
        batch_op.drop_column("result")
        batch_op.drop_column("result_seq")
