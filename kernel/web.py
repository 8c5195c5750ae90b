"""Request plumbing shared by every controller: who is asking, CSRF, pages, errors.

- The viewer (the logged-in account, if any) is resolved once per request from the
  HttpOnly session cookie and cached on the connection.
- CSRF: an unsafe request that carries a live session must echo the session's CSRF token
  (header ``X-CSRF-Token`` or form field ``csrf_token``). Without a session, any body that
  is not ``application/json`` (which a cross-site page cannot send without CORS, which
  Veche never grants) must echo the ``veche_csrf`` cookie in its ``csrf_token`` field
  (double submit), which protects the log-in and registration forms.
- Errors and the headers every response carries are in ``kernel.responses``.
- Uploads: the body type and size limit of an image upload route, the reading of its
  ``file`` part and the response that serves an uploaded image, shared by every domain
  that takes photos (the rules an image must meet are ``kernel.images``').
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import anyio.to_thread
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, State, UploadFile
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import MultipartBody
from sqlalchemy.orm import Session, sessionmaker

from kernel import i18n
from kernel.accounts.service import AccountService, LiveSession, csrf_matches
from kernel.errors import Forbidden, NotAuthenticated
from kernel.images import MAX_IMAGE_BYTES
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


# --- uploads -----------------------------------------------------------------------------

Upload = MultipartBody[dict[str, Any]]
# An upload route's body limit: one image at its largest, plus the multipart framing.
UPLOAD_LIMIT = MAX_IMAGE_BYTES + 64 * 1024
T = TypeVar("T")


def read_upload(data: dict[str, Any]) -> bytes:
    """The bytes of the form's ``file`` part (at most one byte over the limit, so that
    ``kernel.images.check_upload`` refuses a larger one); empty without a file."""
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        return b""
    return upload.file.read(MAX_IMAGE_BYTES + 1)


def image_response(content: bytes, content_type: str, *, cache: str) -> Response[bytes]:
    """An uploaded image as served: the type its bytes were recognized as, never sniffed
    by the browser, and no active content; ``cache`` is the ``Cache-Control`` value."""
    return Response(
        content,
        media_type=content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": cache,
            "Content-Security-Policy": "default-src 'none'",
        },
    )


def keep_upload(db: Session, data: dict[str, Any], add: Callable[..., T], *args: Any) -> T:
    """Read the form's ``file`` part, then keep it in one transaction through the
    domain's service: ``add(db, *args, content)``; what the service answers."""
    content = read_upload(data)
    with db.begin():
        return add(db, *args, content)


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
        time_zone=settings.time_zone,
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
