from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.query import KnownQueryOnly
from autoclip_api.core.responses import error_responses
from autoclip_api.projects.auth import ProjectsRead, ProjectsUpdate
from autoclip_api.templates.schemas import (
    PreviewFormat,
    TemplateCreate,
    TemplateList,
    TemplateRead,
    TemplateUpdate,
)
from autoclip_api.templates.service import parse_modifications, template_service

router = APIRouter(prefix="/templates", tags=["templates"], dependencies=[KnownQueryOnly])


@router.get("", responses=error_responses(401, 403, 429))
def list_templates(
    subject: ProjectsRead,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> TemplateList:
    """The built-ins (short, long, square), then your organisation's templates."""
    return template_service.list(session, subject, limit=limit, offset=offset)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 413, 422, 429),
)
def create_template(
    body: TemplateCreate, subject: ProjectsUpdate, session: SessionDep
) -> TemplateRead:
    """A RenderScript template of your own (413 over 256 KiB; 422 with the JSON path of each
    problem, 500 elements or more included, before anything is rendered)."""
    return template_service.create(session, subject, body)


@router.get("/{template_id}", responses=error_responses(401, 403, 404, 429))
def get_template(template_id: str, subject: ProjectsRead, session: SessionDep) -> TemplateRead:
    return template_service.get(session, subject, template_id)


@router.patch("/{template_id}", responses=error_responses(401, 403, 404, 413, 422, 429))
def update_template(
    template_id: str, body: TemplateUpdate, subject: ProjectsUpdate, session: SessionDep
) -> TemplateRead:
    """Built-ins are read-only (403)."""
    return template_service.update(session, subject, template_id, body)


@router.delete(
    "/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 429),
)
def delete_template(template_id: str, subject: ProjectsUpdate, session: SessionDep) -> Response:
    """Built-ins are read-only (403); a template projects render with is kept (409)."""
    template_service.delete(session, subject, template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{template_id}/preview",
    responses={
        **error_responses(401, 403, 404, 422, 429, 503),
        200: {
            "description": "The rendered frame (PNG) or clip (mp4, at most 5 s)",
            "content": {"image/png": {}, "video/mp4": {}},
        },
    },
    response_class=Response,
)
async def preview_template(
    template_id: str,
    subject: ProjectsRead,
    session: SessionDep,
    api: ApiDep,
    modifications: Annotated[
        str | None,
        Query(
            max_length=64 * 1024,
            description='JSON object of "Element.property": value applied before rendering.',
        ),
    ] = None,
    time: Annotated[
        float | None,
        Query(ge=0, le=3600, description="Seconds: the frame shown then; mp4: where it starts."),
    ] = None,
    format: Annotated[PreviewFormat, Query(description="png (a frame) or mp4 (≤ 5 s)")] = "png",
) -> Response:
    """A real render of the template by the local engine, its media stood in for: pipeline
    templates are filled as for a sample item (title card, three scenes, end card)."""
    source = await run_in_threadpool(template_service.source, session, subject, template_id)
    # A render takes seconds: no connection is held meanwhile.
    await run_in_threadpool(session.close)
    changes = parse_modifications(modifications)
    preview = await template_service.preview(api, source, changes, at=time, fmt=format)
    return Response(
        preview.body, media_type=preview.media_type, headers={"Cache-Control": "private"}
    )
