"""Account pages: register, log in, log out, account; and the language switch."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from kernel import i18n
from kernel.accounts.schemas import Registration
from kernel.accounts.service import AccountService
from kernel.errors import DomainError, NotAuthenticated
from kernel.http.accounts import client_ip
from kernel.markers import N_
from kernel.web import (
    DB,
    SESSION_COOKIE,
    KernelState,
    Viewer,
    render,
    requires_login,
    safe_next,
    session_cookie,
)

Form = URLEncodedBody[dict[str, Any]]


def _field(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value)


class AccountPages(Controller):
    include_in_schema = False

    @get("/register", sync_to_thread=True)
    def register_form(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[str]:
        with db.begin():
            districts = state.accounts.list_districts(db)
        return render(
            request,
            "register.html",
            {"districts": districts, "form": {}, "errors": {}},
            viewer=viewer,
        )

    @post("/register", sync_to_thread=True, opt={"csrf_login": True})
    def register(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[str]:
        service: AccountService = state.accounts
        form = {k: _field(data, k) for k in ("email", "display_name", "district", "password")}
        errors: dict[str, str] = {}
        try:
            registration = Registration(**form)
        except (TypeError, msgspec.ValidationError):
            registration = None
        with db.begin():
            districts = service.list_districts(db)
            if registration is None or len(form["display_name"]) > 100 or len(form["email"]) > 254:
                errors["form"] = N_("Fill in every field.")
            else:
                errors = service.validate_registration(db, registration)
            if not errors and registration is not None:
                try:
                    user = service.register(db, registration)
                except DomainError as exc:
                    errors["form"] = exc.detail
                else:
                    token, _csrf = service.start_session(db, user)
        if errors:
            form.pop("password", None)
            return render(
                request,
                "register.html",
                {"districts": districts, "form": form, "errors": errors},
                viewer=viewer,
                status_code=400,
            )
        return _redirect("/account?welcome=1", [session_cookie(state.settings, token)])

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], viewer: Viewer) -> Response[str]:
        target = safe_next(request.query_params.get("next"))
        return render(
            request, "login.html", {"next": target, "form": {}, "error": None}, viewer=viewer
        )

    @post("/login", sync_to_thread=True, opt={"csrf_login": True})
    def login(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[str]:
        service: AccountService = state.accounts
        email, password = _field(data, "email"), _field(data, "password")
        target = safe_next(_field(data, "next"))
        failure: NotAuthenticated | None = None
        with db.begin():
            try:
                user = service.authenticate(db, email, password, client_ip(request))
            except NotAuthenticated as exc:
                failure = exc
            else:
                old = request.cookies.get(SESSION_COOKIE)
                if old:
                    service.end_session(db, old)
                token, _csrf = service.start_session(db, user)
        if failure is not None:
            return render(
                request,
                "login.html",
                {"next": target, "form": {"email": email}, "error": failure.detail},
                viewer=viewer,
                status_code=400,
            )
        return _redirect(target, [session_cookie(state.settings, token)])

    @post("/logout", sync_to_thread=True)
    def logout(self, request: Request[Any, Any, Any], db: DB, state: KernelState) -> Response[str]:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with db.begin():
                state.accounts.end_session(db, token)
        return _redirect("/", [session_cookie(state.settings, "", clear=True)])

    @get("/account", guards=[requires_login], sync_to_thread=True)
    def account(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[str]:
        assert viewer is not None
        with db.begin():
            districts = {d.code: d.name for d in state.accounts.list_districts(db)}
        return render(
            request,
            "account.html",
            {
                "district_name": districts.get(viewer.user.district, viewer.user.district),
                "welcome": request.query_params.get("welcome") == "1",
            },
            viewer=viewer,
        )

    @get("/lang/{code:str}")
    async def switch_language(
        self, request: Request[Any, Any, Any], code: FromPath[str]
    ) -> Response[str]:
        target = safe_next(request.query_params.get("next"))
        if code not in i18n.LANGUAGES:
            return _redirect(target, [])
        return _redirect(
            target,
            [
                Cookie(
                    key=i18n.LANG_COOKIE,
                    value=code,
                    path="/",
                    max_age=365 * 86400,
                    samesite="lax",
                    httponly=True,
                )
            ],
        )


def _redirect(target: str, cookies: list[Cookie]) -> Response[str]:
    return Redirect(target, status_code=303, cookies=cookies)  # type: ignore[return-value]


class HomePage(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], viewer: Viewer) -> Response[str]:
        return render(request, "home.html", {}, viewer=viewer)
