"""Responses: already-serialised JSON, and the OpenAPI documentation of the error responses
(all ``{"detail": ...}``)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Authenticated, but the role does not allow this",
    404: "Not found (or not visible to you)",
    409: "Conflict with the current state",
    413: "Request body over 1 MiB",
    422: "Invalid request",
    429: "Rate limited; see Retry-After",
    502: "Upstream (identity provider) error",
    503: "Temporarily unavailable; see Retry-After",
}


class ErrorResponse(BaseModel):
    detail: Any


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


def json_bytes(body: bytes, status_code: int = 200) -> Response:
    """A body already serialised from its response model (e.g. cached): sent as is, without
    FastAPI validating and serialising it again. The route declares ``response_model``."""
    return Response(body, status_code=status_code, media_type="application/json")
