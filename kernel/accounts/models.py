"""Account tables. Times are whole UTC seconds since the epoch (integers on both engines)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class District(SQLModel, table=True):
    __tablename__ = "district"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    # A random identifier that other packages may log; it reveals nothing about the person.
    public_id: str = Field(unique=True, index=True, max_length=32)
    email: str = Field(unique=True, index=True, max_length=254)
    display_name: str = Field(max_length=100)
    # Residents belong to a district; staff accounts (admins, auditors) may have none.
    district: str | None = Field(default=None, foreign_key="district.code", max_length=64)
    role: str = Field(default="resident", max_length=16)
    password_hash: str = Field(max_length=512)
    created_at: int


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    # SHA-256 of the cookie value: a stolen database does not yield live cookies.
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: int
    expires_at: int = Field(index=True)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    # "email:<address>" or "ip:<address>": throttling counts both.
    key: str = Field(index=True, max_length=300)
    at: int = Field(index=True)
