"""Account endpoints under /api/v1: registration (with its e-mail confirmation), log-in,
log-out, me, administration, and the verification of residents by staff."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from kernel.accounts.models import User
from kernel.accounts.schemas import (
    Account,
    Credentials,
    DistrictIn,
    DistrictOut,
    LoginResult,
    Registration,
    RoleChange,
    Verification,
    VerificationIn,
)
from kernel.accounts.service import AccountService, to_account
from kernel.errors import NotAuthenticated, NotFound
from kernel.markers import N_
from kernel.web import (
    DB,
    SESSION_COOKIE,
    KernelState,
    Viewer,
    request_language,
    requires_login,
    requires_role,
    session_cookie,
)


class ConfirmationSent(msgspec.Struct, frozen=True):
    """Whether the confirmation message left for the account's address."""

    sent: bool
    email: str


class ConfirmationToken(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: str


class ResidentOut(msgspec.Struct, frozen=True):
    """An account as staff see it when verifying residents."""

    account: Account
    verification: Verification | None


def send_confirmation(
    state: KernelState, db: Any, user_id: int, request: Request[Any, Any, Any]
) -> ConfirmationSent:
    """Make a confirmation link for the account (its own transaction), then mail it in
    the request's language."""
    with db.begin():
        user = db.get(User, user_id)
        if user is None:
            raise NotFound(N_("There is no such account."), code="no_such_account")
        token = state.accounts.start_email_confirmation(db, user)
        account = to_account(user)
    sent = state.accounts.send_confirmation(account, token, request_language(request))
    return ConfirmationSent(sent=sent, email=account.email)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1/auth"
    tags: ClassVar[list[str]] = ["accounts"]

    @post(
        "/register",
        operation_id="register",
        status_code=201,
        sync_to_thread=True,
        opt={"csrf_login": True},
    )
    def register(
        self,
        data: JSONBody[Registration],
        db: DB,
        state: KernelState,
        request: Request[Any, Any, Any],
    ) -> Account:
        """Create a resident account and send the link that confirms its e-mail address.
        Limited per client address and overall (429 with Retry-After)."""
        service: AccountService = state.accounts
        with db.begin():
            account = to_account(service.register(db, data, client_ip=client_ip(request)))
        send_confirmation(state, db, account.id, request)
        return account

    @post(
        "/confirmation",
        operation_id="sendConfirmation",
        status_code=200,
        sync_to_thread=True,
        guards=[requires_login],
    )
    def send_again(
        self, db: DB, state: KernelState, viewer: Viewer, request: Request[Any, Any, Any]
    ) -> ConfirmationSent:
        """Send a new link that confirms the account's e-mail address (limited)."""
        assert viewer is not None and viewer.user.id is not None
        return send_confirmation(state, db, viewer.user.id, request)

    @post(
        "/confirm",
        operation_id="confirmEmail",
        status_code=200,
        sync_to_thread=True,
    )
    def confirm(self, data: JSONBody[ConfirmationToken], db: DB, state: KernelState) -> Account:
        """Confirm an e-mail address with the token of the link sent to it."""
        with db.begin():
            return to_account(state.accounts.confirm_email(db, data.token))

    @post(
        "/login",
        operation_id="login",
        status_code=200,
        sync_to_thread=True,
        opt={"csrf_login": True},
    )
    def login(
        self,
        data: JSONBody[Credentials],
        db: DB,
        state: KernelState,
        request: Request[Any, Any, Any],
    ) -> Response[LoginResult]:
        """Log in; sets the HttpOnly session cookie and returns the CSRF token to echo."""
        service: AccountService = state.accounts
        failure: NotAuthenticated | None = None
        with db.begin():
            # A failed attempt is committed (it counts towards throttling), then reported.
            try:
                user = service.authenticate(db, data.email, data.password, client_ip(request))
            except NotAuthenticated as exc:
                failure = exc
            else:
                old = request.cookies.get(SESSION_COOKIE)
                if old:
                    service.end_session(db, old)
                token, csrf = service.start_session(db, user)
        if failure is not None:
            raise failure
        return Response(
            LoginResult(account=to_account(user), csrf_token=csrf),
            cookies=[session_cookie(state.settings, token)],
        )

    @post("/logout", operation_id="logout", status_code=200, sync_to_thread=True)
    def logout(
        self, db: DB, state: KernelState, request: Request[Any, Any, Any]
    ) -> Response[dict[str, str]]:
        """End the current session."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with db.begin():
                state.accounts.end_session(db, token)
        return Response(
            {"status": "logged_out"}, cookies=[session_cookie(state.settings, "", clear=True)]
        )

    @get("/me", operation_id="me", guards=[requires_login])
    async def me(self, viewer: Viewer) -> Account:
        """The account of the current session."""
        assert viewer is not None
        return to_account(viewer.user)


class AdminController(Controller):
    path = "/api/v1/admin"
    tags: ClassVar[list[str]] = ["administration"]
    guards: ClassVar[list[Any]] = [requires_role("admin")]

    @get("/users", operation_id="listUsers", sync_to_thread=True)
    def list_users(self, db: DB, state: KernelState) -> list[Account]:
        """All accounts (admins only)."""
        with db.begin():
            return state.accounts.list_users(db)

    @patch("/users/{user_id:int}/role", operation_id="setRole", sync_to_thread=True)
    def set_role(
        self, user_id: FromPath[int], data: JSONBody[RoleChange], db: DB, state: KernelState
    ) -> Account:
        """Give an account another role (admins only)."""
        with db.begin():
            return state.accounts.set_role(db, user_id, data.role)

    @post("/districts", operation_id="createDistrict", status_code=201, sync_to_thread=True)
    def create_district(
        self, data: JSONBody[DistrictIn], db: DB, state: KernelState
    ) -> DistrictOut:
        """Add a district of the municipality (admins only)."""
        with db.begin():
            return state.accounts.create_district(db, data)


class DistrictController(Controller):
    path = "/api/v1/districts"
    tags: ClassVar[list[str]] = ["accounts"]

    @get("/", operation_id="listDistricts", sync_to_thread=True)
    def list_districts(self, db: DB, state: KernelState) -> list[DistrictOut]:
        """The municipality's districts."""
        with db.begin():
            return state.accounts.list_districts(db)


class ResidentController(Controller):
    """Staff record residents they verified after checking documents."""

    path = "/api/v1/staff/residents"
    tags: ClassVar[list[str]] = ["administration"]
    guards: ClassVar[list[Any]] = [requires_role("admin", "moderator")]

    @get("/", operation_id="findResident", sync_to_thread=True)
    def find(self, email: FromQuery[str], db: DB, state: KernelState) -> ResidentOut:
        """The account with this e-mail address and its verification, if any."""
        with db.begin():
            user = state.accounts.find_user(db, email)
            if user is None or user.id is None:
                raise NotFound(N_("There is no account with this e-mail address."))
            return ResidentOut(
                account=to_account(user), verification=state.accounts.verification(db, user.id)
            )

    @post(
        "/{user_id:int}/verification",
        operation_id="verifyResident",
        status_code=201,
        sync_to_thread=True,
    )
    def verify(
        self,
        user_id: FromPath[int],
        data: JSONBody[VerificationIn],
        state: KernelState,
        viewer: Viewer,
    ) -> Verification:
        """Record that the account's owner showed documents proving residence in the
        district; logged as resident.verified (no document data)."""
        assert viewer is not None
        return state.accounts.verify_resident(viewer.user, user_id, data)
