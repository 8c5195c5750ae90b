"""Proposal tables. Times are whole UTC seconds since the epoch; money is integer minor
units; a map point is integer micro-degrees (never floats)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Program(SQLModel, table=True):
    __tablename__ = "program"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    currency: str = Field(default="RUB", max_length=8)
    # One of lifecycle's program phases; admins move it forward.
    phase: str = Field(default="submission", max_length=16)
    # {"submission": {"starts": "YYYY-MM-DD", "ends": "YYYY-MM-DD"}, ...}
    phases: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    support_threshold: int = 0
    cofund_percent: int = 0
    cofund_who: str = Field(default="both", max_length=16)
    cofund_deadline: int | None = Field(default=None, sa_type=BigInteger)
    map_tile_url: str = Field(max_length=500)
    created_at: int


class ProgramDistrict(SQLModel, table=True):
    __tablename__ = "program_district"

    program_id: int = Field(foreign_key="program.id", primary_key=True, ondelete="CASCADE")
    district: str = Field(foreign_key="district.code", primary_key=True, max_length=64)
    budget: int = Field(sa_type=BigInteger)


class Proposal(SQLModel, table=True):
    __tablename__ = "proposal"

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id", index=True)
    author_id: int = Field(foreign_key="user_account.id", index=True)
    title: str = Field(max_length=200)
    summary: str = Field(max_length=500)
    description: str = Field(max_length=10000)
    category: str = Field(max_length=100)
    district: str = Field(foreign_key="district.code", max_length=64, index=True)
    # Money can pass 2**31 minor units: 64-bit columns.
    cost: int = Field(sa_type=BigInteger)
    validated_cost: int | None = Field(default=None, sa_type=BigInteger)
    lat_e6: int | None = None
    lon_e6: int | None = None
    status: str = Field(default="draft", max_length=20, index=True)
    reason: str | None = Field(default=None, max_length=2000)
    election_id: str | None = Field(default=None, max_length=100)
    supports: int = 0
    created_at: int
    updated_at: int


class StatusChange(SQLModel, table=True):
    __tablename__ = "proposal_status_change"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=2000)
    seq: int
    at: int


class Support(SQLModel, table=True):
    __tablename__ = "proposal_support"

    proposal_id: int = Field(foreign_key="proposal.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    at: int


class Business(SQLModel, table=True):
    __tablename__ = "business"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(unique=True, max_length=32)
    owner_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=200)
    inn: str = Field(unique=True, max_length=12)
    created_at: int


class Pledge(SQLModel, table=True):
    __tablename__ = "pledge"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    business_id: int | None = Field(default=None, foreign_key="business.id")
    amount: int = Field(sa_type=BigInteger)
    # live → withdrawn (by the pledger) | due (the proposal won) | released (it did not)
    status: str = Field(default="live", max_length=12)
    created_at: int
    updated_at: int


class Milestone(SQLModel, table=True):
    __tablename__ = "milestone"

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    stage: str = Field(max_length=16)
    percent: int
    date: str = Field(max_length=10)
    note: str = Field(default="", max_length=2000)
    created_at: int


class Image(SQLModel, table=True):
    __tablename__ = "proposal_image"

    id: str = Field(primary_key=True, max_length=32)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    milestone_id: int | None = Field(default=None, foreign_key="milestone.id")
    content_type: str = Field(max_length=32)
    extension: str = Field(max_length=8)
    size: int
    width: int
    height: int
    sha256: str = Field(max_length=64)
    created_at: int


class Rating(SQLModel, table=True):
    __tablename__ = "proposal_rating"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    stars: int
    at: int
