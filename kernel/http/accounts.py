"""Account endpoints under /api/v1: registration, log-in, log-out, me, administration."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, JSONBody

from kernel.accounts.schemas import (
    Account,
    Credentials,
    DistrictIn,
    DistrictOut,
    LoginResult,
    Registration,
    RoleChange,
)
from kernel.accounts.service import AccountService, to_account
from kernel.errors import NotAuthenticated
from kernel.web import (
    DB,
    SESSION_COOKIE,
    KernelState,
    Viewer,
    requires_login,
    requires_role,
    session_cookie,
)


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
    def register(self, data: JSONBody[Registration], db: DB, state: KernelState) -> Account:
        """Create a resident account."""
        service: AccountService = state.accounts
        with db.begin():
            user = service.register(db, data)
            return to_account(user)

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
