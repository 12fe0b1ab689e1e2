from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.query import KnownQueryOnly
from autoclip_api.core.responses import error_responses, json_bytes
from autoclip_api.projects.auth import (
    ProjectsCreate,
    ProjectsDelete,
    ProjectsRead,
    ProjectsUpdate,
)
from autoclip_api.projects.schemas import ProjectCreate, ProjectList, ProjectRead, ProjectUpdate
from autoclip_api.projects.service import project_service

router = APIRouter(prefix="/projects", tags=["projects"], dependencies=[KnownQueryOnly])


@router.get("", response_model=ProjectList, responses=error_responses(401, 403, 429))
async def list_projects(
    subject: ProjectsRead,
    api: ApiDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Your organisation's projects, oldest first."""
    return json_bytes(await project_service.list_json(api, subject, limit=limit, offset=offset))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 422, 429),
)
def create_project(
    body: ProjectCreate, subject: ProjectsCreate, session: SessionDep
) -> ProjectRead:
    return project_service.create(session, subject, body)


@router.get("/{project_id}", responses=error_responses(401, 403, 404, 429))
def get_project(project_id: str, subject: ProjectsRead, session: SessionDep) -> ProjectRead:
    return project_service.get(session, subject, project_id)


@router.patch("/{project_id}", responses=error_responses(401, 403, 404, 422, 429))
def update_project(
    project_id: str, body: ProjectUpdate, subject: ProjectsUpdate, session: SessionDep
) -> ProjectRead:
    return project_service.update(session, subject, project_id, body)


@router.delete(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
def delete_project(project_id: str, subject: ProjectsDelete, session: SessionDep) -> Response:
    """Deletes the project with its content items."""
    project_service.delete(session, subject, project_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
