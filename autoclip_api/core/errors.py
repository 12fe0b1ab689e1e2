"""The API's exception hierarchy: each is answered as a problem (``core/responses.py``) with its
status code, its ``detail`` and its headers (``WWW-Authenticate``, ``Retry-After``)."""

from __future__ import annotations

import math
from collections.abc import Mapping


class ApiError(Exception):
    status_code = 500
    default_detail = "Internal server error"

    def __init__(
        self, detail: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.detail = detail or self.default_detail
        self.headers = dict(headers or {})
        super().__init__(self.detail)


class BadRequest(ApiError):
    status_code = 400
    default_detail = "Bad request"


class Unauthorized(ApiError):
    status_code = 401
    default_detail = "Not authenticated"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status_code = 403
    default_detail = "Not allowed"


class NotFound(ApiError):
    status_code = 404
    default_detail = "Not found"


class Conflict(ApiError):
    status_code = 409
    default_detail = "Conflict"


class TooManyRequests(ApiError):
    status_code = 429
    default_detail = "Too many requests"

    def __init__(self, retry_after_seconds: float, detail: str | None = None) -> None:
        self.retry_after = max(1, math.ceil(retry_after_seconds))
        super().__init__(detail, headers={"Retry-After": str(self.retry_after)})


class BadGateway(ApiError):
    status_code = 502
    default_detail = "Upstream service error"


class ServiceUnavailable(ApiError):
    status_code = 503
    default_detail = "Service temporarily unavailable"

    def __init__(self, detail: str | None = None, retry_after_seconds: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})
