"""Accounts: registration, log-in with throttling, server-side sessions, roles, the
confirmation of e-mail addresses and the verification of residents by staff.

Registration and log-in are limited per client address and over all addresses
(``RateEvent``, 429 with ``Retry-After``); password hashing runs at most
``argon2_max_concurrent`` at a time (``kernel.accounts.passwords.HashingSlots``).

A self-registered account proves nothing about its owner. Two facts can be added to it:
its e-mail address is **confirmed** (the owner followed a link sent to it,
``start_email_confirmation``/``confirm_email``), and its owner is a **verified
resident** of a district (staff checked documents, ``verify_resident``; logged as
``resident.verified`` through the log writer the composition root hands in, with only
pseudonymous ids: docs/protocol.md §4.17).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from argon2 import PasswordHasher
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kernel.accounts.models import (
    AuthSession,
    District,
    EmailConfirmation,
    LoginFailure,
    RateEvent,
    ResidentVerification,
    User,
)
from kernel.accounts.passwords import (
    HashingSlots,
    dummy_hash,
    make_hasher,
    password_problem,
    verify_password,
)
from kernel.accounts.schemas import (
    ROLES,
    Account,
    DistrictChange,
    DistrictIn,
    DistrictOut,
    Registration,
    Verification,
    VerificationIn,
)
from kernel.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
)
from kernel.keys import load_or_create_secret
from kernel.mail import Mailer, MailError, confirmation_mail
from kernel.markers import N_
from kernel.settings import Settings

T = TypeVar("T")
log = logging.getLogger("veche.mail")
# The kind of the log entry that records a verification (declared, with its body, in
# ballot.core.kinds; the kernel only writes it).
RESIDENT_VERIFIED = "resident.verified"
DOCUMENT_DOMAIN = b"veche/document/v1\n"
_DOCUMENT_CHARS = re.compile(r"[^0-9A-Z\u0410-\u042f\u0401]")


class LogWriter(Protocol):
    """Runs ``work(db, append)`` as one work item of the log: the rows it writes on
    ``db`` and the entries it appends (``append(kind, body)`` gives the ``seq``) commit
    together or not at all."""

    def __call__(self, work: Callable[[Session, Callable[[str, dict[str, Any]], int]], T]) -> T: ...


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
        email_confirmed=user.email_confirmed_at is not None,
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

    def __init__(
        self,
        settings: Settings,
        hasher: PasswordHasher | None = None,
        *,
        log_writer: LogWriter | None = None,
        mailer: Mailer | None = None,
    ) -> None:
        self.settings = settings
        self.hasher = hasher or make_hasher(settings)
        self.slots = HashingSlots(settings.argon2_max_concurrent, settings.argon2_wait_seconds)
        self.log_writer = log_writer
        self.mailer = mailer or Mailer(settings)
        self._document_key: bytes | None = None

    # --- districts -------------------------------------------------------------------
    def list_districts(self, db: Session) -> list[DistrictOut]:
        rows = db.scalars(select(District).order_by(District.name)).all()
        return [DistrictOut(code=d.code, name=d.name, budget=d.budget) for d in rows]

    def create_district(self, db: Session, data: DistrictIn, budget: int = 0) -> DistrictOut:
        if db.get(District, data.code) is not None:
            raise Conflict(N_("A district with this code already exists."), code="district_exists")
        db.add(District(code=data.code, name=data.name.strip(), budget=budget))
        db.flush()
        return DistrictOut(code=data.code, name=data.name.strip(), budget=budget)

    def change_district(self, db: Session, code: str, data: DistrictChange) -> DistrictOut:
        """Rename a district or set its budget; its code (used by accounts, programmes and
        elections) stays."""
        row = db.get(District, code)
        if row is None:
            raise NotFound(N_("There is no such district."))
        row.name = data.name.strip()
        row.budget = data.budget
        db.flush()
        return DistrictOut(code=row.code, name=row.name, budget=row.budget)

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

    def register(
        self,
        db: Session,
        data: Registration,
        *,
        role: str = "resident",
        client_ip: str | None = None,
    ) -> User:
        """Create an account; with ``client_ip`` (a request from outside) the
        registration limits apply (429)."""
        if client_ip is not None:
            self.check_registration_limit(db, client_ip)
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
        with self.slots.turn():
            password_hash = self.hasher.hash(password)
        user = User(
            public_id=secrets.token_hex(16),
            email=normalize_email(email),
            display_name=display_name.strip(),
            district=district,
            role=role,
            password_hash=password_hash,
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

    # --- rate limits ---------------------------------------------------------------------
    def _limit(
        self, db: Session, keys: list[tuple[str, int]], window: int, message: str, now: int
    ) -> None:
        """429 when any key already has ``limit`` events in the window; else count one
        more for each (in the caller's transaction)."""
        since = now - window
        for key, limit in keys:
            count, oldest = db.execute(
                select(func.count(), func.min(RateEvent.at)).where(
                    RateEvent.key == key, RateEvent.at > since
                )
            ).one()
            if count >= limit:
                retry = max(1, int(oldest) + window - now)
                raise TooManyRequests(message, retry_after=retry)
        for key, _ in keys:
            db.add(RateEvent(key=key, at=now))
        db.execute(delete(RateEvent).where(RateEvent.at <= now - 86400))
        db.flush()

    def check_registration_limit(self, db: Session, client_ip: str) -> None:
        settings = self.settings
        self._limit(
            db,
            [
                (f"register:ip:{client_ip}", settings.register_ip_max),
                ("register:all", settings.register_max),
            ],
            settings.register_window_seconds,
            N_("Too many accounts were registered recently. Wait a while and try again."),
            int(time.time()),
        )

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
        self._limit(
            db,
            [
                (f"login:ip:{client_ip}", self.settings.login_ip_max_attempts),
                ("login:all", self.settings.login_max_attempts),
            ],
            self.settings.login_window_seconds,
            N_("Too many log-in attempts. Wait a while and try again."),
            now,
        )
        user = self._user_by_email(db, email)
        with self.slots.turn():
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
            with self.slots.turn():
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

    # --- e-mail confirmation -------------------------------------------------------------
    def confirmation_link(self, token: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/confirm-email/{token}"

    def start_email_confirmation(self, db: Session, user: User) -> str:
        """A new confirmation token for the user's address (the link carries it); 429
        beyond ``email_resend_max`` links per registration window."""
        assert user.id is not None
        if user.email_confirmed_at is not None:
            raise Conflict(
                N_("This e-mail address is already confirmed."), code="already_confirmed"
            )
        now = int(time.time())
        since = now - self.settings.register_window_seconds
        sent, oldest = db.execute(
            select(func.count(), func.min(EmailConfirmation.created_at)).where(
                EmailConfirmation.user_id == user.id, EmailConfirmation.created_at > since
            )
        ).one()
        if sent >= self.settings.email_resend_max:
            raise TooManyRequests(
                N_("Several confirmation messages were sent already. Wait a while and try again."),
                retry_after=max(1, int(oldest) + self.settings.register_window_seconds - now),
            )
        token = secrets.token_urlsafe(32)
        db.add(
            EmailConfirmation(
                token_hash=_token_hash(token),
                user_id=user.id,
                email=user.email,
                created_at=now,
                expires_at=now + self.settings.email_link_hours * 3600,
            )
        )
        db.execute(delete(EmailConfirmation).where(EmailConfirmation.expires_at < now - 86400))
        db.flush()
        return token

    def send_confirmation(self, user: Account | User, token: str, lang: str) -> bool:
        """Send the link (after the token's transaction committed); whether it went.
        A failure is the server's, not the user's: it is logged and they may ask again."""
        mail = confirmation_mail(
            lang,
            user.email,
            user.display_name,
            self.confirmation_link(token),
            self.settings.email_link_hours,
        )
        try:
            return self.mailer.send(mail)
        except MailError as exc:
            log.error("%s", exc)
            return False

    def confirm_email(self, db: Session, token: str) -> User:
        """Confirm the address the token was sent to (404 for an unknown, used or
        expired link; a link for an address the account no longer has is void)."""
        row = db.get(EmailConfirmation, _token_hash(token)) if 0 < len(token) <= 200 else None
        now = int(time.time())
        user = db.get(User, row.user_id) if row is not None else None
        if row is None or user is None or row.expires_at < now or row.email != user.email:
            raise NotFound(
                N_(
                    "This confirmation link is not valid: it was used already, has expired "
                    "or was mistyped. Log in and ask for a new one on your account page."
                ),
                code="bad_confirmation_link",
            )
        if user.email_confirmed_at is None:
            user.email_confirmed_at = now
        db.execute(delete(EmailConfirmation).where(EmailConfirmation.user_id == user.id))
        db.flush()
        return user

    def mark_email_confirmed(self, db: Session, user: User) -> None:
        """Confirm without a link: for accounts the operator makes (``veche`` commands,
        the demo), never for a request from outside."""
        if user.email_confirmed_at is None:
            user.email_confirmed_at = int(time.time())
            db.flush()

    # --- residents verified by staff -----------------------------------------------------
    def _document_hash(self, number: str) -> str:
        if self._document_key is None:
            self._document_key = load_or_create_secret(self.settings.keys_dir, "documents.key")
        normalized = _DOCUMENT_CHARS.sub("", number.upper())
        return hmac.new(
            self._document_key, DOCUMENT_DOMAIN + normalized.encode(), hashlib.sha256
        ).hexdigest()

    def verification(self, db: Session, user_id: int) -> Verification | None:
        row = db.get(ResidentVerification, user_id)
        if row is None:
            return None
        staff = db.get(User, row.verified_by)
        return Verification(
            district=row.district,
            verified_at=row.verified_at,
            staff=staff.public_id if staff else "",
            seq=row.seq,
        )

    def find_user(self, db: Session, email: str) -> User | None:
        return self._user_by_email(db, normalize_email(email))

    def verify_resident(self, staff: User, user_id: int, data: VerificationIn) -> Verification:
        """Record that ``staff`` checked the documents of account ``user_id`` and found
        its owner a resident of ``data.district``; logged as ``resident.verified``.

        The document's type is kept for staff; its number only as an HMAC under a server
        secret, so that one document verifies one account (409 ``document_used``).
        Neither enters the log."""
        if staff.role not in {"admin", "moderator"}:
            raise Forbidden(N_("Your account's role does not allow this."), code="forbidden_role")
        if self.log_writer is None:
            raise RuntimeError("verifying residents needs the log (AccountService.log_writer)")
        document_type = data.document_type.strip()
        number = _DOCUMENT_CHARS.sub("", data.document_number.upper())
        if not document_type:
            raise InvalidInput(
                N_("Say which document was checked (for example, a passport)."),
                code="invalid_document_type",
            )
        if len(number) < 4:
            raise InvalidInput(
                N_("Enter the number of the document that was checked."),
                code="invalid_document_number",
            )
        document_hash = self._document_hash(number)
        staff_public_id, staff_id = staff.public_id, staff.id
        now = int(time.time())

        def work(db: Session, append: Callable[[str, dict[str, Any]], int]) -> Verification:
            user = db.get(User, user_id)
            if user is None:
                raise NotFound(N_("There is no such account."), code="no_such_account")
            if user.role != "resident":
                raise Conflict(
                    N_("Only resident accounts are verified as residents."),
                    code="not_a_resident_account",
                )
            if db.get(District, data.district) is None:
                raise InvalidInput(
                    N_("Choose one of the districts of this municipality."),
                    code="invalid_district",
                )
            if db.get(ResidentVerification, user_id) is not None:
                raise Conflict(
                    N_("This account's owner has already been verified as a resident."),
                    code="already_verified",
                )
            used = db.scalars(
                select(ResidentVerification.user_id).where(
                    ResidentVerification.document_hash == document_hash
                )
            ).first()
            if used is not None:
                raise Conflict(
                    N_(
                        "This document has already verified another account: one person, "
                        "one verified account."
                    ),
                    code="document_used",
                )
            seq = append(
                RESIDENT_VERIFIED,
                {"district": data.district, "resident": user.public_id, "staff": staff_public_id},
            )
            assert staff_id is not None
            db.add(
                ResidentVerification(
                    user_id=user_id,
                    district=data.district,
                    document_type=document_type[:100],
                    document_hash=document_hash,
                    verified_by=staff_id,
                    verified_at=now,
                    seq=seq,
                )
            )
            user.district = data.district
            db.flush()
            return Verification(
                district=data.district, verified_at=now, staff=staff_public_id, seq=seq
            )

        return self.log_writer(work)

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


def require_confirmed_email(user: User) -> None:
    """403 unless the account's e-mail address is confirmed: what counts (supports,
    pledges, ratings) counts only from accounts whose owner reads their address."""
    if user.email_confirmed_at is None:
        raise Forbidden(
            N_(
                "Confirm your e-mail address first: follow the link we sent to it, or ask "
                "for a new one on your account page. Until then supports, pledges and "
                "ratings from this account do not count."
            ),
            code="email_not_confirmed",
        )


def csrf_matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
