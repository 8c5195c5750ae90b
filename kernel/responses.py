"""What every response gets: the error shape, the security headers, their OpenAPI form.

Every failure becomes ``{"error": code, "detail": sentence}``; page requests get the same
code and sentence rendered as an HTML page in the viewer's language (a 401 redirects to
the log-in page). Domain errors carry their HTTP status on their class
(``kernel.errors``), so one handler maps them all.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect

from kernel import i18n
from kernel.errors import TooManyRequests
from kernel.markers import N_
from kernel.web import (
    _VIEWER_KEY,
    SESSION_COOKIE,
    _resolve_viewer_sync,
    kernel_state,
    render,
    request_language,
)

log = logging.getLogger("veche")


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
            page = render(
                request,
                "error.html",
                {"status": status, "code": code, "detail": i18n.translate(lang, detail)},
                viewer=_known_viewer(request),
                status_code=status,
            )
            page.headers.update(headers or {})  # Retry-After on a 429 page too
            return page
        except Exception:  # pragma: no cover - the error page itself failed
            log.exception("error page failed")
    return Response(
        {"error": code, "detail": detail},
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _known_viewer(request: Request[Any, Any, Any]) -> Any:
    """Who is logged in, so that an error page's menu is theirs (no "Log in" for a
    logged-in person); resolved here when no guard did it before the error."""
    if _VIEWER_KEY in request.state:
        return request.state[_VIEWER_KEY]
    if not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return _resolve_viewer_sync(request)
    except Exception:  # pragma: no cover - an error page never fails for its menu
        log.exception("viewer of an error page")
        return None


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
        detail = _too_large_detail(request)
    elif status == 404 and exc.detail and "not found" not in str(exc.detail).lower():
        detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if status >= 500:
        log.error("HTTP %s on %s: %s", status, request.url.path, exc.detail)
        code, detail = "internal_error", "Something went wrong on the server; it was recorded."
    return _error_response(request, status, code, detail, headers or None)


def _too_large_detail(request: Request[Any, Any, Any]) -> str:
    """The limit a body went over: in bytes for the API, in megabytes (one decimal,
    rounded up, in the reader's language) on a page."""
    size = kernel_state(request).settings.max_body_bytes
    handler = request.scope.get("route_handler")
    limit_of_route = getattr(handler, "request_max_body_size", None)
    if isinstance(limit_of_route, int) and limit_of_route > 0:
        size = limit_of_route
    if not _wants_page(request):
        return f"The request is larger than the limit of {size} bytes."
    lang = request_language(request)
    tenths = -(-size * 10 // 1_048_576)
    limit = i18n.number(lang, Decimal(tenths).scaleb(-1).normalize())
    sentence = i18n.translate(lang, N_("The request is larger than the limit of %(size)s MB."))
    return sentence % {"size": limit}


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
