"""Account tables. Times are whole UTC seconds since the epoch (integers on both engines)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class District(SQLModel, table=True):
    __tablename__ = "district"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    # Kopecks: what a new programme offers the district unless another amount is typed.
    budget: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


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
    # When the owner followed the confirmation link sent to ``email`` (None: never).
    email_confirmed_at: int | None = None


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


class EmailConfirmation(SQLModel, table=True):
    """A link sent to confirm that the account's owner reads its e-mail address."""

    __tablename__ = "email_confirmation"

    # SHA-256 of the token in the link: a stolen database does not confirm anything.
    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    # The address the link was sent to: changing the account's address voids the link.
    email: str = Field(max_length=254)
    created_at: int
    expires_at: int = Field(index=True)


class ResidentVerification(SQLModel, table=True):
    """Staff checked documents and found this account's owner a resident of the district.

    One verification per account; ``document_hash`` (an HMAC of the document's number
    under a server secret, never the number) lets one document verify one account only.
    ``document_type`` is a note for staff ("passport"); neither enters the log."""

    __tablename__ = "resident_verification"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    district: str = Field(foreign_key="district.code", index=True, max_length=64)
    document_type: str = Field(max_length=100)
    document_hash: str = Field(unique=True, max_length=64)
    verified_by: int = Field(foreign_key="user_account.id")
    verified_at: int
    # The log entry (resident.verified) that records it.
    seq: int


class RateEvent(SQLModel, table=True):
    """One counted use of a limited action (registration, log-in, and the actions of
    ``kernel.limits``: drafts, uploads, pledges), by key."""

    __tablename__ = "rate_event"

    id: int | None = Field(default=None, primary_key=True)
    # "register:ip:<address>", "register:all", "login:ip:<address>", "login:all",
    # "<action>:account:<id>", ...
    key: str = Field(index=True, max_length=300)
    at: int = Field(index=True)
