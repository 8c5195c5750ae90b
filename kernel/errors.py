"""Typed errors and the one place that maps them to HTTP.

Every error a client sees has the shape ``{"error": "<code>", "detail": "<sentence>"}``.
Domain packages raise their own exceptions carrying ``code`` and ``detail``, each class
with its HTTP ``status``; the application's one handler (``kernel.web``) answers them by
class, so handlers never build error responses.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """An expected refusal: the request cannot be done as asked."""

    status: ClassVar[int] = 400
    code: str = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None):
        super().__init__(detail, code=code)
        self.field = field


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
