"""Accounts: registration, log-in with throttling, server-side sessions, roles."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel.accounts.models import AuthSession, District, LoginFailure, User
from kernel.accounts.passwords import (
    dummy_hash,
    make_hasher,
    password_problem,
    verify_password,
)
from kernel.accounts.schemas import ROLES, Account, DistrictIn, DistrictOut, Registration
from kernel.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from kernel.markers import N_
from kernel.settings import Settings

# Deliberately simple: one @, something on each side, a dot in the domain, no spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def to_account(user: User) -> Account:
    assert user.id is not None
    return Account(
        id=user.id,
        public_id=user.public_id,
        email=user.email,
        display_name=user.display_name,
        district=user.district,
        role=user.role,  # type: ignore[arg-type]
        created_at=user.created_at,
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LiveSession:
    user: User
    csrf_token: str
    token_hash: str


class AccountService:
    """Account operations inside the caller's transaction (the session passed in)."""

    def __init__(self, settings: Settings, hasher: PasswordHasher | None = None) -> None:
        self.settings = settings
        self.hasher = hasher or make_hasher(settings)

    # --- districts -------------------------------------------------------------------
    def list_districts(self, db: Session) -> list[DistrictOut]:
        rows = db.scalars(select(District).order_by(District.name)).all()
        return [DistrictOut(code=d.code, name=d.name) for d in rows]

    def create_district(self, db: Session, data: DistrictIn) -> DistrictOut:
        if db.get(District, data.code) is not None:
            raise Conflict(f"A district with the code {data.code!r} already exists.")
        db.add(District(code=data.code, name=data.name.strip()))
        db.flush()
        return DistrictOut(code=data.code, name=data.name.strip())

    # --- registration ----------------------------------------------------------------
    def validate_registration(self, db: Session, data: Registration) -> dict[str, str]:
        """Field → message for everything wrong with a registration (empty when fine)."""
        problems: dict[str, str] = {}
        email = normalize_email(data.email)
        if not EMAIL_RE.match(email):
            problems["email"] = N_("Enter a valid e-mail address, like name@example.org.")
        if not data.display_name.strip():
            problems["display_name"] = N_("Enter the name other residents will see.")
        if db.get(District, data.district) is None:
            problems["district"] = N_("Choose one of the districts of this municipality.")
        problem = password_problem(
            data.password, email=email, display_name=data.display_name.strip()
        )
        if problem:
            problems["password"] = problem
        if "email" not in problems and self._user_by_email(db, email) is not None:
            problems["email"] = N_("An account with this e-mail address already exists.")
        return problems

    def register(self, db: Session, data: Registration, *, role: str = "resident") -> User:
        problems = self.validate_registration(db, data)
        if problems:
            field, message = next(iter(problems.items()))
            code = "email_taken" if "already exists" in message else f"invalid_{field}"
            raise (Conflict if code == "email_taken" else InvalidInput)(message, code=code)
        return self.register_unchecked(
            db, data.email, data.display_name, data.district, data.password, role
        )

    def register_unchecked(
        self,
        db: Session,
        email: str,
        display_name: str,
        district: str | None,
        password: str,
        role: str,
    ) -> User:
        """Create the account; the caller has validated the fields."""
        if role not in ROLES:
            raise InvalidInput(f"Unknown role {role!r}.", code="invalid_role")
        user = User(
            public_id=secrets.token_hex(16),
            email=normalize_email(email),
            display_name=display_name.strip(),
            district=district,
            role=role,
            password_hash=self.hasher.hash(password),
            created_at=int(time.time()),
        )
        db.add(user)
        try:
            db.flush()
        except IntegrityError:
            # Two registrations raced for one address; the database kept one.
            raise Conflict(
                N_("An account with this e-mail address already exists."), code="email_taken"
            ) from None
        return user

    def _user_by_email(self, db: Session, email: str) -> User | None:
        return db.scalars(select(User).where(User.email == email)).first()

    # --- log-in ----------------------------------------------------------------------
    def _check_throttle(self, db: Session, keys: list[tuple[str, int]], now: int) -> None:
        since = now - self.settings.login_window_seconds
        for key, limit in keys:
            count, oldest = db.execute(
                select(func.count(), func.min(LoginFailure.at)).where(
                    LoginFailure.key == key, LoginFailure.at > since
                )
            ).one()
            if count >= limit:
                retry = max(1, int(oldest) + self.settings.login_window_seconds - now)
                raise TooManyRequests(
                    N_("Too many failed log-in attempts. Wait a while and try again."),
                    retry_after=retry,
                )

    def authenticate(self, db: Session, email: str, password: str, client_ip: str) -> User:
        """The user for these credentials, or NotAuthenticated; failures are throttled.

        Failures are recorded in the caller's transaction, which must be committed even
        when this raises NotAuthenticated (the HTTP layer does so).
        """
        now = int(time.time())
        email = normalize_email(email)
        keys = [
            (f"email:{email}", self.settings.login_max_failures),
            (f"ip:{client_ip}", self.settings.login_ip_max_failures),
        ]
        self._check_throttle(db, keys, now)
        user = self._user_by_email(db, email)
        if user is None:
            verify_password(self.hasher, dummy_hash(self.hasher), password)
            ok = False
        else:
            ok = verify_password(self.hasher, user.password_hash, password)
        if not ok or user is None:
            for key, _ in keys:
                db.add(LoginFailure(key=key, at=now))
            db.flush()
            raise NotAuthenticated(
                N_("The e-mail address or the password is wrong."), code="wrong_credentials"
            )
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        db.execute(delete(LoginFailure).where(LoginFailure.key == keys[0][0]))
        db.execute(delete(LoginFailure).where(LoginFailure.at <= now - 86400))
        return user

    def start_session(self, db: Session, user: User) -> tuple[str, str]:
        """A new session for the user: (cookie token, CSRF token). Always a fresh id."""
        assert user.id is not None
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = int(time.time())
        db.add(
            AuthSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + self.settings.session_days * 86400,
            )
        )
        db.execute(delete(AuthSession).where(AuthSession.expires_at < now))
        db.flush()
        return token, csrf

    def resolve_session(self, db: Session, token: str) -> LiveSession | None:
        if not token or len(token) > 200:
            return None
        row = db.get(AuthSession, _token_hash(token))
        if row is None or row.expires_at < int(time.time()):
            return None
        user = db.get(User, row.user_id)
        if user is None:
            return None
        return LiveSession(user=user, csrf_token=row.csrf_token, token_hash=row.token_hash)

    def end_session(self, db: Session, token: str) -> None:
        db.execute(delete(AuthSession).where(AuthSession.token_hash == _token_hash(token)))

    # --- administration ----------------------------------------------------------------
    def list_users(self, db: Session) -> list[Account]:
        return [to_account(u) for u in db.scalars(select(User).order_by(User.id)).all()]

    def set_role(self, db: Session, user_id: int, role: str) -> Account:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound(f"There is no account with id {user_id}.")
        if role not in ROLES:
            raise InvalidInput(f"Unknown role {role!r}.", code="invalid_role")
        user.role = role
        db.flush()
        return to_account(user)


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
