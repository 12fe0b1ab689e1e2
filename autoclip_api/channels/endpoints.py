from __future__ import annotations

from fastapi import APIRouter, Response, status

from autoclip_api.channels.schemas import ChannelCreate, ChannelList, ChannelRead
from autoclip_api.channels.service import channel_service
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses
from autoclip_api.projects.auth import ProjectsRead, ProjectsUpdate

router = APIRouter(prefix="/projects/{project_id}/channels", tags=["channels"])


@router.get("", responses=error_responses(401, 403, 404, 429))
def list_channels(project_id: str, subject: ProjectsRead, session: SessionDep) -> ChannelList:
    """The project's channels, oldest first."""
    return channel_service.list(session, subject, project_id)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 422, 429),
)
def create_channel(
    project_id: str, body: ChannelCreate, subject: ProjectsUpdate, session: SessionDep
) -> ChannelRead:
    """A channel of the project, added to the project's ``channels``. ``local`` publishes at
    once; ``youtube`` and ``tiktok`` are stored as ``needs_authorization``."""
    return channel_service.create(session, subject, project_id, body)


@router.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
def delete_channel(
    project_id: str, channel_id: str, subject: ProjectsUpdate, session: SessionDep
) -> Response:
    """Removes the channel (and its sealed tokens); the project stops publishing to it."""
    channel_service.delete(session, subject, project_id, channel_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
