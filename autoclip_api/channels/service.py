"""Channels of a project: ``local`` ones publish at once; ``youtube``/``tiktok`` ones wait
for their account to be connected (``needs_authorization``). A new channel joins the
project's ``channels``; a deleted one leaves them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from fastapi import Request
from sqlalchemy.orm import Session

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.channels.connect import UNKNOWN_STATE, finish, refused, start, state_hash
from autoclip_api.channels.schemas import (
    ChannelAuthorizationStarted,
    ChannelCreate,
    ChannelCreated,
    ChannelList,
    ChannelRead,
)
from autoclip_api.context import ApiContext
from autoclip_api.core.errors import Conflict, NotFound
from autoclip_api.projects.service import readable_or_404, readable_project, slugify
from autoclip_core.cache_versions import changed, org_scope
from autoclip_core.db.channels import ChannelRepository, initial_state
from autoclip_core.db.models import Channel, Project, new_id, utcnow
from autoclip_core.db.quota import QuotaLeft, QuotaPolicy, QuotaRepository, api_project
from autoclip_core.settings import Settings

logger = logging.getLogger("autoclip_api.channels")

CHANNEL_NOT_FOUND = "Channel not found"


def channels(session: Session) -> ChannelRepository:
    return ChannelRepository(session, on_change=lambda org_id: changed(session, org_scope(org_id)))


def channel_read(channel: Channel, quota: QuotaLeft | None = None) -> ChannelRead:
    return ChannelRead.model_validate(
        {
            **{name: getattr(channel, name) for name in ChannelRead.model_fields
               if name not in ("authorized", "quota")},
            "authorized": channel.access_token is not None,
            "quota": None if quota is None or channel.platform != "youtube" else {
                "day": quota.day, "units_left": quota.units, "uploads_left": quota.uploads,
                "resets_at": quota.resets_at,
            },
        }
    )  # fmt: skip


def readable_channel(
    session: Session, subject: AuthSubject, project_id: str, channel_id: str
) -> tuple[Project, Channel]:
    """The project and its channel ``channel_id``, as ``subject`` may see them (else 404)."""
    project = readable_project(session, subject, project_id)
    channel = readable_or_404(
        channel_id,
        partial(channels(session).get_readable, subject.org_id, project.id),
        CHANNEL_NOT_FOUND,
    )
    return project, channel


class ChannelService:
    def list(
        self, session: Session, subject: AuthSubject, project_id: str, settings: Settings
    ) -> ChannelList:
        project = readable_project(session, subject, project_id)
        rows = channels(session).of_project(subject.org_id, project.id)
        quota = None
        if any(c.platform == "youtube" for c in rows):
            quota = QuotaRepository(session).left(
                api_project(settings), QuotaPolicy.from_settings(settings), datetime.now(UTC)
            )
        return ChannelList(items=[channel_read(c, quota) for c in rows])

    def create(
        self,
        session: Session,
        subject: AuthSubject,
        project_id: str,
        data: ChannelCreate,
        authorize: Authorize,
    ) -> ChannelCreated:
        project = readable_project(session, subject, project_id)
        channel_id = new_id()
        channel = channels(session).add(
            Channel(
                id=channel_id,
                org_id=project.org_id,
                project_id=project.id,
                platform=data.platform,
                name=data.name,
                slug=slugify(data.name, channel_id),
                settings=data.settings,
                state=initial_state(data.platform),
                created_at=utcnow(),
            ),
            project,
        )
        url = authorize(channel) if channel.platform != "local" else None
        session.commit()
        logger.info(
            "channel created org=%s project=%s channel=%s platform=%s",
            subject.org_id, project.id, channel.id, channel.platform,
        )  # fmt: skip
        return ChannelCreated.model_validate(
            {**channel_read(channel).model_dump(), "authorization_url": url}
        )

    def authorize(
        self,
        session: Session,
        subject: AuthSubject,
        project_id: str,
        channel_id: str,
        authorize: Authorize,
    ) -> ChannelAuthorizationStarted:
        """A new consent URL for an account channel (first connection or a reconnect)."""
        _, channel = readable_channel(session, subject, project_id, channel_id)
        if channel.platform == "local":
            raise Conflict("A local channel needs no authorization")
        url = authorize(channel)
        if url is None:
            raise Conflict(
                f"{channel.platform} channels cannot be connected here: the platform's OAuth "
                "client is not configured"
            )
        session.commit()
        return ChannelAuthorizationStarted(authorization_url=url)

    def callback(
        self,
        session: Session,
        api: ApiContext,
        platform: str,
        *,
        state: str | None,
        code: str | None,
        error: str | None,
        error_description: str | None,
    ) -> ChannelRead:
        """The platform's redirect after the owner's consent: the channel connected."""
        connector = api.channel_connectors.get(platform)
        if connector is None or not state:
            raise NotFound(UNKNOWN_STATE)
        if error or not code:
            ChannelRepository(session).take_authorization(
                state_hash(state), platform, datetime.now(UTC)
            )
            session.commit()
            raise refused(platform, error or "no code", error_description)
        channel = finish(
            session, connector, api.channel_tokens, platform=platform, state=state, code=code
        )
        session.commit()
        logger.info(
            "channel connected org=%s channel=%s platform=%s", channel.org_id, channel.id, platform
        )
        return channel_read(channel)

    def delete(
        self, session: Session, subject: AuthSubject, project_id: str, channel_id: str
    ) -> None:
        project, channel = readable_channel(session, subject, project_id, channel_id)
        channels(session).delete(channel, project)
        session.commit()
        logger.info("channel deleted org=%s channel=%s", subject.org_id, channel_id)


Authorize = Callable[[Channel], str | None]
"""The consent URL of a channel (a pending authorisation added to the session), None when its
platform cannot be connected here."""


def authorizer(api: ApiContext, session: Session, user_id: str, request: Request) -> Authorize:
    def authorize(channel: Channel) -> str | None:
        connector = api.channel_connectors.get(channel.platform)
        if connector is None:
            return None
        redirect_uri = str(request.url_for("channel_oauth_callback", platform=channel.platform))
        return start(session, connector, channel, user_id=user_id, redirect_uri=redirect_uri)

    return authorize


channel_service = ChannelService()
