"""Request plumbing shared by every controller: who is asking, CSRF, pages, errors.

- The viewer (the logged-in account, if any) is resolved once per request from the
  HttpOnly session cookie and cached on the connection.
- CSRF: an unsafe request that carries a live session must echo the session's CSRF token
  (header ``X-CSRF-Token`` or form field ``csrf_token``). Without a session, any body that
  is not ``application/json`` (which a cross-site page cannot send without CORS, which
  Veche never grants) must echo the ``veche_csrf`` cookie in its ``csrf_token`` field
  (double submit), which protects the log-in and registration forms.
- Errors: every failure becomes ``{"error": code, "detail": sentence}``; page requests get
  the same code and sentence rendered as an HTML page in the viewer's language.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect
from sqlalchemy.orm import Session, sessionmaker

from kernel import i18n
from kernel.accounts.service import AccountService, LiveSession, csrf_matches
from kernel.errors import Forbidden, NotAuthenticated, TooManyRequests
from kernel.markers import N_
from kernel.settings import Settings

log = logging.getLogger("veche")


class KernelState(State):
    """The application's state as the kernel sees it, typed.

    Litestar hands handlers the state as an instance of the class their ``state``
    parameter names; each package's HTTP layer declares a subclass with the services it
    uses. ``veche.wiring.Services.state()`` fills every attribute (a test checks each
    declared attribute against what is built)."""

    settings: Settings
    accounts: AccountService
    sessions: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    read_sessions: Callable[[], AbstractContextManager[Session]]


def kernel_state(connection: ASGIConnection[Any, Any, Any, Any]) -> KernelState:
    """The application's state, typed, from any request or connection."""
    return KernelState(connection.app.state)


# Handler parameters filled by the application's dependencies.
DB = NamedDependency[Session]
Viewer = NamedDependency[LiveSession | None]

SESSION_COOKIE = "veche_session"
ANON_CSRF_COOKIE = "veche_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VIEWER_KEY = "veche_viewer"
_ANON_CSRF_KEY = "veche_new_anon_csrf"


# --- the viewer --------------------------------------------------------------------------
def _resolve_viewer_sync(connection: ASGIConnection[Any, Any, Any, Any]) -> LiveSession | None:
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    state = kernel_state(connection)
    service = state.accounts
    with state.read_sessions() as db:
        return service.resolve_session(db, token)


async def load_viewer(connection: ASGIConnection[Any, Any, Any, Any]) -> LiveSession | None:
    if _VIEWER_KEY not in connection.state:
        if connection.cookies.get(SESSION_COOKIE):
            viewer = await anyio.to_thread.run_sync(_resolve_viewer_sync, connection)
        else:
            viewer = None
        connection.state[_VIEWER_KEY] = viewer
    result: LiveSession | None = connection.state[_VIEWER_KEY]
    return result


async def provide_viewer(request: Request[Any, Any, Any]) -> LiveSession | None:
    return await load_viewer(request)


def requires_role(*roles: str) -> Callable[..., Any]:
    """A guard: the viewer must be logged in (401) and hold one of these roles (403)."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
    ) -> None:
        viewer = await load_viewer(connection)
        if viewer is None:
            raise NotAuthenticated(N_("Log in to do this."))
        if roles and viewer.user.role not in roles:
            raise Forbidden(N_("Your account's role does not allow this."), code="forbidden_role")

    guard.__name__ = f"requires_role_{'_'.join(roles) or 'login'}"
    return guard


requires_login = requires_role()


# --- CSRF --------------------------------------------------------------------------------
async def csrf_check(request: Request[Any, Any, Any]) -> None:
    """before_request hook: refuse unsafe requests that a foreign page could have forged.

    Routes with the option ``csrf_login`` (log-in, registration) also accept the
    anonymous rules when a session exists, so that one can log in again as someone else.
    """
    opt = request.route_handler.opt
    if request.method not in UNSAFE_METHODS or opt.get("csrf_exempt"):
        return
    viewer = await load_viewer(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    given = request.headers.get("x-csrf-token")
    if given is None and content_type in _FORM_TYPES:
        field = (await request.form()).get("csrf_token")
        given = field if isinstance(field, str) else None
    if viewer is not None and csrf_matches(viewer.csrf_token, given):
        return
    if viewer is None or opt.get("csrf_login"):
        if content_type == "application/json":
            return
        cookie = request.cookies.get(ANON_CSRF_COOKIE)
        if cookie and csrf_matches(cookie, given):
            return
    raise Forbidden(
        N_(
            "The form or request is missing its security token (CSRF). "
            "Reload the page and try again."
        ),
        code="csrf_failed",
    )


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


# --- pages -------------------------------------------------------------------------------
def request_language(request: Request[Any, Any, Any]) -> str:
    settings = kernel_state(request).settings
    return i18n.pick_language(
        request.cookies.get(i18n.LANG_COOKIE),
        request.headers.get("accept-language"),
        settings.default_lang,
    )


def page_csrf_token(request: Request[Any, Any, Any], viewer: LiveSession | None) -> str:
    if viewer is not None:
        return viewer.csrf_token
    token = request.cookies.get(ANON_CSRF_COOKIE) or request.state.get(_ANON_CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state[_ANON_CSRF_KEY] = token
    return token


def render(
    request: Request[Any, Any, Any],
    template: str,
    context: dict[str, Any] | None = None,
    *,
    viewer: LiveSession | None = None,
    status_code: int = 200,
    cookies: Iterable[Cookie] = (),
) -> Response[str]:
    """Render a page in the request's language with the layout's shared context."""
    lang = request_language(request)
    settings = kernel_state(request).settings
    env = i18n.jinja_env(lang)
    csrf_token = page_csrf_token(request, viewer)
    html = env.get_template(template).render(
        lang=lang,
        viewer=viewer.user if viewer else None,
        csrf_token=csrf_token,
        path=request.url.path,
        **(context or {}),
    )
    all_cookies = list(cookies)
    new_anon = request.state.get(_ANON_CSRF_KEY)
    if new_anon and viewer is None:
        all_cookies.append(
            Cookie(
                key=ANON_CSRF_COOKIE,
                value=new_anon,
                httponly=True,
                samesite="lax",
                secure=settings.cookie_secure,
                path="/",
            )
        )
    return Response(
        html,
        status_code=status_code,
        media_type="text/html; charset=utf-8",
        cookies=all_cookies,
        headers={"Content-Language": lang},
    )


def session_cookie(settings: Settings, token: str, *, clear: bool = False) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="" if clear else token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
        max_age=0 if clear else settings.session_days * 86400,
    )


def safe_next(target: str | None) -> str:
    """A local path to go to after log-in; anything else (other sites) becomes home."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- errors ------------------------------------------------------------------------------
def _wants_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/schema", "/health")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    detail: str,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if _wants_page(request):
        if status == 401:
            return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
        try:
            lang = request_language(request)
            return render(
                request,
                "error.html",
                {"status": status, "code": code, "detail": i18n.translate(lang, detail)},
                status_code=status,
            )
        except Exception:  # pragma: no cover - the error page itself failed
            log.exception("error page failed")
    return Response(
        {"error": code, "detail": detail},
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


_STATUS_CODES = {
    400: ("bad_request", N_("The request is not valid.")),
    401: ("not_authenticated", N_("Log in to do this.")),
    403: ("forbidden", N_("You are not allowed to do this.")),
    404: ("not_found", N_("There is nothing at this address.")),
    405: ("method_not_allowed", N_("This address does not accept this kind of request.")),
    413: ("body_too_large", N_("The request is too large.")),
    415: ("unsupported_media_type", N_("The request's content type is not supported.")),
    429: ("too_many_requests", N_("Too many requests. Wait a while and try again.")),
}


def handle_domain_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Domain refusals of every package: ``code`` and ``detail``; the status is the one
    the exception's class carries (``status``, a class attribute)."""
    headers = None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    code = str(getattr(exc, "code", "bad_request"))
    status = int(getattr(type(exc), "status", 400))
    detail = str(getattr(exc, "detail", exc))
    return _error_response(request, status, code, detail, headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    code, default_detail = _STATUS_CODES.get(status, ("error", N_("The request failed.")))
    detail = default_detail
    if isinstance(exc, ValidationException):
        code = "invalid_input"
        detail = _validation_detail(exc)
    elif status == 400 and "json" in str(exc.detail).lower():
        code = "malformed_json"
        detail = f"The request body is not valid JSON ({exc.detail})."
    elif status == 413:
        settings = kernel_state(request).settings
        detail = f"The request is larger than the limit of {settings.max_body_bytes} bytes."
    elif status == 404 and exc.detail and "not found" not in str(exc.detail).lower():
        detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if status >= 500:
        log.error("HTTP %s on %s: %s", status, request.url.path, exc.detail)
        code, detail = "internal_error", "Something went wrong on the server; it was recorded."
    return _error_response(request, status, code, detail, headers or None)


def _validation_detail(exc: ValidationException) -> str:
    text = str(exc.detail or "")
    parts = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            message = str(item.get("message", "")).strip()
            key = item.get("key")
            if message:
                parts.append(f"{message} (in {key})" if key else message)
    if parts:
        return "The request is not valid: " + "; ".join(parts) + "."
    return text if text else "The request is not valid."


def handle_out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A number too large for the database (an id from a fuzzer, say) names nothing."""
    return _error_response(
        request, 400, "out_of_range", N_("A number in the request is out of range.")
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(
        request, 500, "internal_error", "Something went wrong on the server; it was recorded."
    )


# --- security headers --------------------------------------------------------------------
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    # Map tiles come from the tile server a program configures.
    "img-src 'self' data: https:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(*, hsts: bool) -> Any:
    """A ``before_send`` hook: the same protective headers on every response, including
    errors raised before any route is found (which route middleware never sees)."""
    static_headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if hsts:
        # Only behind TLS (cookie_secure): a plain-HTTP deployment must not pin itself.
        static_headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def before_send(message: Any, scope: Any) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _value in headers}
            headers.extend((k, v) for k, v in static_headers if k not in present)
            message["headers"] = headers

    return before_send


# --- the error shape in the OpenAPI document ---------------------------------------------
def document_error_shape(openapi: Any) -> None:
    """Make every documented 4xx/5xx response the one error shape Veche really sends
    (Litestar documents its own validation error body otherwise). Runs at start-up, on
    the OpenAPI object, before it is first rendered."""
    from litestar.openapi.spec import Components, OpenAPIMediaType, OpenAPIType, Reference, Schema

    components = openapi.components or Components()
    openapi.components = components
    schemas = dict(components.schemas or {})
    schemas["Error"] = Schema(
        type=OpenAPIType.OBJECT,
        required=["error", "detail"],
        properties={
            "error": Schema(type=OpenAPIType.STRING, description="a stable machine code"),
            "detail": Schema(
                type=OpenAPIType.STRING, description="a sentence a person understands"
            ),
        },
    )
    components.schemas = schemas
    media = {
        "application/json": OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Error"))
    }
    for path_item in (openapi.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch", "head", "options"):
            operation = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            for status, response in operation.responses.items():
                if str(status)[:1] in {"4", "5"} and hasattr(response, "content"):
                    response.content = dict(media)
