"""One error tree for the application, mapped to HTTP in exactly one place (app.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class AppError(Exception):
    status_code: ClassVar[int] = 500
    detail: str = "internal error"

    def __init__(self, detail: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        super().__init__(self.detail)

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers (WWW-Authenticate, Retry-After ...)."""
        return {}


class BadRequest(AppError):
    status_code = 400
    detail = "bad request"


class Unauthorized(AppError):
    """No credentials, or credentials that do not verify (RFC 6750 challenge)."""

    status_code = 401
    detail = "authentication required"

    def __init__(self, detail: str | None = None, *, invalid_token: bool = False) -> None:
        super().__init__(detail)
        self.invalid_token = invalid_token

    @property
    def headers(self) -> dict[str, str]:
        if self.invalid_token:
            return {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(AppError):
    status_code = 403
    detail = "forbidden"


class NotFound(AppError):
    status_code = 404
    detail = "not found"


class Conflict(AppError):
    status_code = 409
    detail = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    detail = "payload too large"


class UnsupportedMediaType(AppError):
    status_code = 415
    detail = "unsupported media type"


class Unprocessable(AppError):
    status_code = 422
    detail = "unprocessable"


class TooManyRequests(AppError):
    status_code = 429
    detail = "too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(AppError):
    status_code = 503
    detail = "service unavailable"


class ErrorRead(BaseModel):
    """Shape of every error response."""

    error: str
    detail: str


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route that can raise these errors."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        out[err.status_code] = {
            "model": ErrorRead,
            "description": err.detail,
            "content": {
                "application/json": {"example": {"error": err.__name__, "detail": err.detail}}
            },
        }
    return out
