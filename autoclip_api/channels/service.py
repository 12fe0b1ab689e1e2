"""Channels of a project: ``local`` ones publish at once; ``youtube``/``tiktok`` ones wait
for their account to be connected (``needs_authorization``). A new channel joins the
project's ``channels``; a deleted one leaves them."""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy.orm import Session

from autoclip_api.auth.subject import AuthSubject
from autoclip_api.channels.schemas import ChannelCreate, ChannelList, ChannelRead
from autoclip_api.core.db import changed
from autoclip_api.core.ratelimit import org_scope
from autoclip_api.projects.service import readable_or_404, readable_project, slugify
from autoclip_core.db.channels import ChannelRepository, initial_state
from autoclip_core.db.models import Channel, new_id, utcnow

logger = logging.getLogger("autoclip_api.channels")

CHANNEL_NOT_FOUND = "Channel not found"


def channels(session: Session) -> ChannelRepository:
    return ChannelRepository(session, on_change=lambda org_id: changed(session, org_scope(org_id)))


def channel_read(channel: Channel) -> ChannelRead:
    return ChannelRead.model_validate(
        {
            **{name: getattr(channel, name) for name in ChannelRead.model_fields
               if name != "authorized"},
            "authorized": channel.access_token is not None,
        }
    )  # fmt: skip


class ChannelService:
    def list(self, session: Session, subject: AuthSubject, project_id: str) -> ChannelList:
        project = readable_project(session, subject, project_id)
        rows = channels(session).of_project(subject.org_id, project.id)
        return ChannelList(items=[channel_read(c) for c in rows])

    def create(
        self, session: Session, subject: AuthSubject, project_id: str, data: ChannelCreate
    ) -> ChannelRead:
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
        session.commit()
        logger.info(
            "channel created org=%s project=%s channel=%s platform=%s",
            subject.org_id, project.id, channel.id, channel.platform,
        )  # fmt: skip
        return channel_read(channel)

    def delete(
        self, session: Session, subject: AuthSubject, project_id: str, channel_id: str
    ) -> None:
        project = readable_project(session, subject, project_id)
        channel = readable_or_404(
            channel_id,
            partial(channels(session).get_readable, subject.org_id, project.id),
            CHANNEL_NOT_FOUND,
        )
        channels(session).delete(channel, project)
        session.commit()
        logger.info("channel deleted org=%s channel=%s", subject.org_id, channel_id)


channel_service = ChannelService()
