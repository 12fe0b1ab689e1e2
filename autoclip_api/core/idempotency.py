"""``Idempotency-Key``: a retried request gets the first one's answer, and has no second effect.

A route that takes the header answers through :func:`answer_once`. The key is scoped to the
caller and the route; the request it came with is remembered as a fingerprint (the path's
parameters and the body). The same key with the same request gets the stored response (with
``Idempotent-Replayed: true``); with another request, 422; while the first is still being
answered, 409. Errors the API answers on purpose (4xx) are stored like any answer; a request
that failed unexpectedly leaves the key free for a retry. Keys live 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Header, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from autoclip_api.core.errors import ApiError, Conflict
from autoclip_api.core.responses import PROBLEM_MEDIA_TYPE, problem_response
from autoclip_core.db.engine import Database
from autoclip_core.db.idempotency import IdempotencyRepository

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A new unique string for each request (e.g. a UUID): a retry with the "
        "same key and request gets the first answer (Idempotent-Replayed: true) and changes "
        "nothing; the key with another request: 422; while the first is still being "
        "answered: 409. Kept 24 h.",
    ),
]


def fingerprint(parameters: Mapping[str, Any], body: BaseModel | None) -> str:
    """What makes two requests to one route the same request."""
    document = {
        "parameters": dict(parameters),
        "body": None if body is None else body.model_dump(mode="json", by_alias=True),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def answer_once(
    database: Database,
    request: Request,
    *,
    user_id: str,
    key: str | None,
    body: BaseModel | None,
    status_code: int,
    produce: Callable[[], BaseModel],
) -> Response:
    """``produce``'s result as JSON with ``status_code`` — or, for a key seen before, what
    the first request with it got. The key's scope is the user and the request's route; the
    request is its path parameters and ``body``."""
    route = f"{request.method} {getattr(request.scope.get('route'), 'path', request.url.path)}"
    fingerprint_ = fingerprint(request.path_params, body)
    if key is None:
        return _json(status_code, produce().model_dump_json().encode())
    keys = IdempotencyRepository(database)
    earlier = keys.begin(user_id, route, key, fingerprint_)
    if earlier is not None:
        if earlier.fingerprint != fingerprint_:
            raise RequestValidationError(
                [
                    {
                        "type": "idempotency_key_reused",
                        "loc": ("header", HEADER),
                        "msg": "this key was used with another request; use a new key",
                    }
                ]
            )
        if earlier.status_code is None:
            raise Conflict("A request with this Idempotency-Key is still being answered")
        return _replay(earlier.status_code, (earlier.body or "").encode())
    try:
        body = produce().model_dump_json().encode()
    except ApiError as exc:
        if exc.status_code >= 500:
            keys.abandon(user_id, route, key)
            raise
        problem = problem_response(exc.status_code, exc.detail, exc.headers)
        keys.finish(user_id, route, key, exc.status_code, bytes(problem.body).decode())
        raise
    except BaseException:
        keys.abandon(user_id, route, key)
        raise
    keys.finish(user_id, route, key, status_code, body.decode())
    return _json(status_code, body)


def _json(status_code: int, body: bytes) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")


def _replay(status_code: int, body: bytes) -> Response:
    media_type = PROBLEM_MEDIA_TYPE if status_code >= 400 else "application/json"
    return Response(
        body, status_code=status_code, media_type=media_type, headers={REPLAYED_HEADER: "true"}
    )
