from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses
from autoclip_api.sources.auth import SignedPush, SourcesManage, SourcesRead
from autoclip_api.sources.schemas import (
    ItemsPush,
    PushResult,
    SourceCreate,
    SourceCreated,
    SourceList,
    SourceRead,
)
from autoclip_api.sources.service import parse_push, push_items, source_service

router = APIRouter(prefix="/projects/{project_id}/sources", tags=["sources"])


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its ``$defs`` inlined (for ``openapi_extra``)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return dict(resolve(schema))


PUSH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline_refs(ItemsPush.model_json_schema())}},
    }
}


@router.get("", responses=error_responses(401, 403, 404, 429))
def list_sources(project_id: str, subject: SourcesRead, session: SessionDep) -> SourceList:
    """The project's sources, oldest first, each with its health."""
    return source_service.list(session, subject, project_id)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 422, 429),
)
def create_source(
    project_id: str, body: SourceCreate, subject: SourcesManage, session: SessionDep, api: ApiDep
) -> SourceCreated:
    """Add a source. Polled kinds (``rss``, ``atom``, ``youtube``, ``json_api``) are picked
    up by the sources sensor; a ``webhook`` source answers with its signing ``secret`` —
    this once only."""
    return source_service.create(session, api, subject, project_id, body)


@router.get("/{source_id}", responses=error_responses(401, 403, 404, 429))
def get_source(
    project_id: str, source_id: str, subject: SourcesRead, session: SessionDep
) -> SourceRead:
    return source_service.get(session, subject, project_id, source_id)


@router.delete(
    "/{source_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
def delete_source(
    project_id: str, source_id: str, subject: SourcesManage, session: SessionDep
) -> Response:
    """Deletes the source; the items it brought in stay."""
    source_service.delete(session, subject, project_id, source_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{source_id}/items",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 409, 413, 422, 429, 503),
    openapi_extra=PUSH_BODY,
)
def push_source_items(delivery: SignedPush, api: ApiDep) -> PushResult:
    """Push items into a webhook source (the body is at most 1 MiB and 100 items).

    No bearer token: sign each delivery with the source's secret — header
    ``X-AutoClip-Timestamp: <unix seconds>`` and ``X-AutoClip-Signature: sha256=<hex>``, the
    HMAC-SHA256 of ``"<timestamp>.<raw body>"``. Deliveries more than 5 minutes from the
    server's clock are refused (401), and so are replays of a signature (409). Items are
    normalised and de-duplicated across the project's sources and stored as drafts; the
    pipeline picks them up within seconds (and generates them when the project
    auto-generates)."""
    try:
        push = parse_push(delivery.body)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in errors]
        ) from None
    return push_items(api, delivery, push)
