"""Account pages: register, log in, log out, account (with the confirmation of its
e-mail address), the confirmation link, staff verifying residents; the language
switch."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect

from kernel import i18n
from kernel.accounts.schemas import Registration, VerificationIn
from kernel.accounts.service import AccountService, to_account
from kernel.errors import DomainError, NotAuthenticated, TooManyRequests
from kernel.http.accounts import client_ip, send_confirmation
from kernel.markers import N_
from kernel.web import (
    DB,
    SESSION_COOKIE,
    KernelState,
    Viewer,
    render,
    requires_login,
    requires_role,
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
        status = 400
        retry_after: int | None = None
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
                    user = service.register(db, registration, client_ip=client_ip(request))
                except TooManyRequests as exc:
                    errors["form"], status, retry_after = exc.detail, 429, exc.retry_after
                except DomainError as exc:
                    errors["form"] = exc.detail
                else:
                    token, _csrf = service.start_session(db, user)
                    user_id = user.id
        if errors:
            form.pop("password", None)
            page = render(
                request,
                "register.html",
                {"districts": districts, "form": form, "errors": errors},
                viewer=viewer,
                status_code=status,
            )
            if retry_after is not None:
                page.headers["Retry-After"] = str(retry_after)
            return page
        assert user_id is not None
        sent = send_confirmation(state, db, user_id, request).sent
        return _redirect(
            f"/account?welcome=1&sent={int(sent)}", [session_cookie(state.settings, token)]
        )

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
        assert viewer is not None and viewer.user.id is not None
        with db.begin():
            districts = {d.code: d.name for d in state.accounts.list_districts(db)}
            verification = state.accounts.verification(db, viewer.user.id)
        sent = request.query_params.get("sent")
        return render(
            request,
            "account.html",
            {
                "district_name": districts.get(viewer.user.district, viewer.user.district),
                "welcome": request.query_params.get("welcome") == "1",
                "confirmed": viewer.user.email_confirmed_at is not None,
                "sent": None if sent is None else sent == "1",
                "verification": verification,
                "verified_district": districts.get(verification.district) if verification else None,
            },
            viewer=viewer,
        )

    @post("/account/confirmation", guards=[requires_login], sync_to_thread=True)
    def send_again(
        self, request: Request[Any, Any, Any], db: DB, state: KernelState, viewer: Viewer
    ) -> Response[str]:
        assert viewer is not None and viewer.user.id is not None
        # A refusal (too many links, already confirmed) is a page in the viewer's
        # language through the application's error handler.
        sent = send_confirmation(state, db, viewer.user.id, request).sent
        return _redirect(f"/account?sent={int(sent)}", [])

    @get("/confirm-email/{token:str}", sync_to_thread=True)
    def confirm_email(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[str]:
        """The link sent by e-mail: following it confirms the address (it proves that
        whoever reads the mailbox holds the link)."""
        try:
            with db.begin():
                account = to_account(state.accounts.confirm_email(db, token))
        except DomainError as exc:
            return render(
                request,
                "confirm_email.html",
                {"account": None, "problem": exc.detail},
                viewer=viewer,
                status_code=exc.status,
            )
        return render(
            request, "confirm_email.html", {"account": account, "problem": None}, viewer=viewer
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


class ResidentPages(Controller):
    """Staff (administrators, moderators) verify residents after checking documents."""

    path = "/staff/residents"
    include_in_schema = False
    guards = [requires_role("admin", "moderator")]  # noqa: RUF012 - read by Litestar

    def _page(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        state: KernelState,
        viewer: Viewer,
        email: str,
        *,
        problem: str | None = None,
        done: bool = False,
        form: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        found = None
        verification = None
        with db.begin():
            districts = state.accounts.list_districts(db)
            if email:
                user = state.accounts.find_user(db, email)
                if user is not None and user.id is not None:
                    found = to_account(user)
                    verification = state.accounts.verification(db, user.id)
        return render(
            request,
            "staff_residents.html",
            {
                "email": email,
                "found": found,
                "verification": verification,
                "districts": districts,
                "district_names": {d.code: d.name for d in districts},
                "problem": problem,
                "done": done,
                "form": form or {},
            },
            viewer=viewer,
            status_code=status_code,
        )

    @get("/", sync_to_thread=True)
    def search(
        self, request: Request[Any, Any, Any], db: DB, state: KernelState, viewer: Viewer
    ) -> Response[str]:
        email = str(request.query_params.get("email") or "").strip()[:254]
        done = request.query_params.get("done") == "1"
        return self._page(request, db, state, viewer, email, done=done)

    @post("/{user_id:int}/verify", sync_to_thread=True)
    def verify(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[int],
        data: Form,
        db: DB,
        state: KernelState,
        viewer: Viewer,
    ) -> Response[str]:
        assert viewer is not None
        form = {k: _field(data, k) for k in ("email", "district", "document_type")}
        try:
            verification = VerificationIn(
                district=form["district"],
                document_type=form["document_type"][:100] or " ",
                document_number=_field(data, "document_number")[:100] or " ",
            )
            state.accounts.verify_resident(viewer.user, user_id, verification)
        except DomainError as exc:
            return self._page(
                request,
                db,
                state,
                viewer,
                form["email"],
                problem=exc.detail,
                form=form,
                status_code=exc.status,
            )
        return _redirect(f"/staff/residents?email={quote(form['email'])}&done=1", [])


def _redirect(target: str, cookies: list[Cookie]) -> Response[str]:
    return Redirect(target, status_code=303, cookies=cookies)  # type: ignore[return-value]


class HomePage(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request[Any, Any, Any], viewer: Viewer) -> Response[str]:
        return render(request, "home.html", {}, viewer=viewer)
