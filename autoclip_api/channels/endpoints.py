from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response, status

from autoclip_api.auth.dependencies import RouteGuard
from autoclip_api.channels.schemas import (
    ChannelAuthorizationStarted,
    ChannelCreate,
    ChannelCreated,
    ChannelList,
    ChannelRead,
)
from autoclip_api.channels.service import authorizer, channel_service
from autoclip_api.context import ApiDep
from autoclip_api.core.db import SessionDep
from autoclip_api.core.responses import error_responses
from autoclip_api.projects.auth import ProjectsRead, ProjectsUpdate

router = APIRouter(prefix="/projects/{project_id}/channels", tags=["channels"])


class _OAuthState(RouteGuard):
    """The platform's redirect carries no login: the state it returns is the credential."""

    policy = "OAuth state (single use, bound to organisation and channel)"

    async def __call__(self) -> None:
        return None


OAuthStateGuard = Depends(_OAuthState())


@router.get("", responses=error_responses(401, 403, 404, 429))
def list_channels(
    project_id: str, subject: ProjectsRead, session: SessionDep, api: ApiDep
) -> ChannelList:
    """The project's channels, oldest first; a YouTube channel with what is left of today's
    quota (per Google API project and Pacific day)."""
    return channel_service.list(session, subject, project_id, api.settings)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 422, 429),
)
def create_channel(
    project_id: str,
    body: ChannelCreate,
    subject: ProjectsUpdate,
    session: SessionDep,
    api: ApiDep,
    request: Request,
) -> ChannelCreated:
    """A channel of the project, added to the project's ``channels``. ``local`` publishes at
    once; ``youtube`` and ``tiktok`` are stored as ``needs_authorization`` with the URL where
    the account's owner consents (state + PKCE S256, bound to the organisation and channel,
    single use, 10 minutes)."""
    authorize = authorizer(api, session, subject.user_id, request)
    return channel_service.create(session, subject, project_id, body, authorize)


@router.post(
    "/{channel_id}/authorize",
    responses=error_responses(401, 403, 404, 409, 429),
)
def authorize_channel(
    project_id: str,
    channel_id: str,
    subject: ProjectsUpdate,
    session: SessionDep,
    api: ApiDep,
    request: Request,
) -> ChannelAuthorizationStarted:
    """A new consent URL for a YouTube or TikTok channel: to connect it, or to connect it
    again once it is ``reconnect_required``."""
    authorize = authorizer(api, session, subject.user_id, request)
    return channel_service.authorize(session, subject, project_id, channel_id, authorize)


oauth_router = APIRouter(prefix="/channels/oauth", tags=["channels"])


@oauth_router.get(
    "/{platform}/callback",
    name="channel_oauth_callback",
    dependencies=[OAuthStateGuard],
    responses=error_responses(400, 404, 429, 502),
)
def channel_oauth_callback(
    platform: Literal["youtube", "tiktok"],
    session: SessionDep,
    api: ApiDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> ChannelRead:
    """Where the platform sends the owner back: the code is exchanged once, the tokens are
    stored sealed, the account's identity read, and the channel becomes ``active``."""
    return channel_service.callback(
        session,
        api,
        platform,
        state=state,
        code=code,
        error=error,
        error_description=error_description,
    )


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
