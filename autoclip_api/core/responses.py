"""Responses: already-serialised JSON, and every error as an RFC 9457 problem details object.

An error body is ``application/problem+json``::

    {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "Project not found"}

``type`` is always ``about:blank``: the status code carries the problem's meaning, ``title`` is
its reason phrase and ``detail`` says what went wrong with this request. An invalid request
(422) adds ``errors``, one item per invalid input, each naming where it is (``location``: body,
query, path, header or cookie; ``pointer``: a JSON Pointer (RFC 6901) in URI-fragment form
into that part, e.g. ``#/daily_batch/time`` or ``#/items/0/url``; ``#`` is the part as a whole)
and what is wrong with it (``detail``, and pydantic's error ``type``). The submitted value is
never echoed: it may be a password.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Response
from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"
VALIDATION_DETAIL = "The request is invalid; see errors"

Location = Literal["body", "query", "path", "header", "cookie"]

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid, expired or revoked credentials",
    403: "Authenticated, but the role does not allow this",
    404: "Not found (or not visible to you)",
    409: "Conflict with the current state",
    413: "Request body over 1 MiB",
    422: "Invalid request; `errors` lists each invalid input",
    429: "Rate limited; see Retry-After",
    500: "Unexpected server error (the details are in the server's log only)",
    502: "Upstream (identity provider) error",
    503: "Temporarily unavailable; see Retry-After",
}


class ProblemError(BaseModel):
    """One invalid input of a 422."""

    type: str = Field(description="pydantic's error type, e.g. `missing`, `json_invalid`")
    location: Location = Field(description="The part of the request the input is in")
    pointer: str = Field(
        description="JSON Pointer (RFC 6901, URI fragment form) into that part, e.g. `#/email`",
        examples=["#/daily_batch/time"],
    )
    detail: str = Field(description="What is wrong with the input")


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(default="about:blank", description="Always `about:blank`: see `status`")
    title: str = Field(description="The status code's reason phrase", examples=["Not Found"])
    status: int = Field(description="The HTTP status code", examples=[404])
    detail: str = Field(description="What went wrong with this request")
    errors: list[ProblemError] = Field(
        default_factory=list, description="Only on 422: each invalid input"
    )


def problem_response(
    status: int,
    detail: str,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, str]] | None = None,
) -> Response:
    """The answer to every error of the API (exception handlers and middleware alike)."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def validation_errors(errors: Sequence[Mapping[str, Any]], body: object) -> list[dict[str, str]]:
    """pydantic/FastAPI errors as problem ``errors`` items (no submitted value in them).

    ``body`` is the parsed request body, when known: a union member's label that pydantic puts
    into ``loc`` (``("body", "rss", "url")`` for a source of kind ``rss``) is no member of the
    body, so the pointer leaves it out (``#/url``).
    """
    items = []
    for error in errors:
        where, *path = error.get("loc", ()) or ("body",)
        location = where if where in ("body", "query", "path", "header", "cookie") else "body"
        detail = str(error.get("msg", ""))
        if error.get("type") == "json_invalid":  # loc holds a character offset, not a member
            reason = (error.get("ctx") or {}).get("error")
            where_in = f" at character {path[0]}" if path else ""
            detail = f"{detail}: {reason}{where_in}" if reason else detail
            path = []
        elif location == "body" and body is not None:
            path = _members(path, body)
        items.append(
            {
                "type": str(error.get("type", "")),
                "location": location,
                "pointer": json_pointer(path),
                "detail": detail,
            }
        )
    return items


def _members(path: Sequence[object], document: object) -> list[object]:
    """The elements of a pydantic ``loc`` that name members of ``document``."""
    kept: list[object] = []
    node = document
    for index, step in enumerate(path):
        if isinstance(node, Mapping) and step in node:
            node = node[step]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        elif isinstance(node, Mapping) and index == len(path) - 1:
            pass  # a missing member: the pointer names where it belongs
        else:
            continue  # a union member's label
        kept.append(step)
    return kept


def json_pointer(path: Sequence[object]) -> str:
    """``["items", 0, "a/b"]`` → ``#/items/0/a~1b`` (RFC 6901 §3 and §6)."""
    tokens = (str(step).replace("~", "~0").replace("/", "~1") for step in path)
    return "#" + "".join("/" + quote(token, safe="!$&'()*+,;=:@?") for token in tokens)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for ``codes``, each a :class:`Problem`."""
    return {code: problem_documentation(code) for code in codes}


def problem_documentation(code: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(code, HTTPStatus(code).phrase),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def json_bytes(body: bytes, status_code: int = 200) -> Response:
    """A body already serialised from its response model (e.g. cached): sent as is, without
    FastAPI validating and serialising it again. The route declares ``response_model``."""
    return Response(body, status_code=status_code, media_type="application/json")
