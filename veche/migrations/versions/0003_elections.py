"""elections

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 03:50:39.164376
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "election",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("config", sa.LargeBinary(), nullable=False),
        sa.Column("manifest", sa.LargeBinary(), nullable=True),
        sa.Column("manifest_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "manifest_signature", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True
        ),
        sa.Column("secrets", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("opened_seq", sa.Integer(), nullable=True),
        sa.Column("closed_seq", sa.Integer(), nullable=True),
        sa.Column("count_size", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("election", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_election_district"), ["district"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_election_manifest_hash"), ["manifest_hash"], unique=True
        )

    op.create_table(
        "cast_ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("credential", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("checkpoint_size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["election.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("election_id", "digest", name="uq_cast_ballot_digest"),
    )
    with op.batch_alter_table("cast_ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cast_ballot_credential"), ["credential"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_cast_ballot_election_id"), ["election_id"], unique=False
        )

    op.create_table(
        "credential_issuance",
        sa.Column("election_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("voter_key", sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
        sa.Column("blinded_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("blind_signature", sa.LargeBinary(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["election.id"],
        ),
        sa.PrimaryKeyConstraint("election_id", "voter_key"),
    )
    op.create_table(
        "roll_entry",
        sa.Column("election_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("voter_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["election_id"],
            ["election.id"],
        ),
        sa.PrimaryKeyConstraint("election_id", "voter_ref"),
    )
    with op.batch_alter_table("roll_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_entry_code_hash"), ["code_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_roll_entry_email"), ["email"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("roll_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roll_entry_email"))
        batch_op.drop_index(batch_op.f("ix_roll_entry_code_hash"))

    op.drop_table("roll_entry")
    op.drop_table("credential_issuance")
    with op.batch_alter_table("cast_ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cast_ballot_election_id"))
        batch_op.drop_index(batch_op.f("ix_cast_ballot_credential"))

    op.drop_table("cast_ballot")
    with op.batch_alter_table("election", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_election_manifest_hash"))
        batch_op.drop_index(batch_op.f("ix_election_district"))

    op.drop_table("election")
