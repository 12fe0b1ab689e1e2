"""Channels: where a project's videos are published, and their sealed OAuth tokens.

An organisation's project lists the ids of the channels it publishes to
(``Project.channels``); the pipeline publishes to their ``slug``s
(:func:`publish_targets`). A project of the sources file (no organisation) names its local
channels directly, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, cast

from sqlalchemy import Select, Table, false, select
from sqlalchemy.orm import Session

from autoclip_core.crypto import TokenCipher
from autoclip_core.db.engine import Database, Repository, aware
from autoclip_core.db.models import Channel, Project, utcnow

CHANNELS = cast(Table, Channel.__table__)
Platform = Literal["local", "youtube", "tiktok"]
PLATFORMS: tuple[Platform, ...] = ("local", "youtube", "tiktok")
TOKEN_COLUMNS = ("access_token", "refresh_token")


class ChannelState(StrEnum):
    ACTIVE = "active"
    """Publishing works (a local folder; an authorised account)."""
    NEEDS_AUTHORIZATION = "needs_authorization"
    """An account the organisation has not yet connected through OAuth."""


def initial_state(platform: Platform) -> ChannelState:
    return ChannelState.ACTIVE if platform == "local" else ChannelState.NEEDS_AUTHORIZATION


@dataclass(frozen=True)
class ChannelTokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None


def publish_targets(
    s: Session, project: Project, channel_ids: Sequence[str] | None = None
) -> list[str]:
    """What the publisher is handed for ``project``: the slugs of its listed channels that
    can publish now, in the project's order (a sources-file project: its channel names).
    ``channel_ids``: these of the project's channels instead (an item's own)."""
    listed = list(project.channels or []) if channel_ids is None else list(channel_ids)
    if project.org_id is None:
        return listed or ["local"]
    if not listed:
        return []
    rows = s.execute(
        select(Channel.id, Channel.slug).where(
            Channel.project_id == project.id,
            Channel.id.in_(listed),
            Channel.state == ChannelState.ACTIVE,
            Channel.platform == "local",
        )
    ).all()
    slugs = {channel_id: slug for channel_id, slug in rows}
    return [slugs[i] for i in listed if i in slugs]


class ChannelRepository(Repository):
    """``cipher`` seals and opens the token columns (needed only by the token methods);
    ``on_change`` is called with the organisation of every channel a write touches."""

    def __init__(
        self,
        bind: Database | Session,
        *,
        cipher: TokenCipher | None = None,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(bind)
        self._cipher = cipher
        self._on_change = on_change

    @staticmethod
    def get_readable_statement(org_id: str | None) -> Select[Any]:
        """THE tenant scope of channels: the rows organisation ``org_id`` owns."""
        statement = select(Channel)
        if org_id is None:
            return statement.where(false())
        return statement.where(CHANNELS.c.org_id == org_id)

    def of_project(self, org_id: str | None, project_id: str) -> Sequence[Channel]:
        with self._session() as s:
            return s.scalars(
                self.get_readable_statement(org_id)
                .where(CHANNELS.c.project_id == project_id)
                .order_by(CHANNELS.c.created_at, CHANNELS.c.id)
            ).all()

    def get_readable(
        self, org_id: str | None, project_id: str, channel_id: str
    ) -> Channel | None:
        with self._session() as s:
            return s.scalar(
                self.get_readable_statement(org_id).where(
                    CHANNELS.c.project_id == project_id, CHANNELS.c.id == channel_id
                )
            )

    def unknown(self, project: Project, channel_ids: Iterable[str]) -> list[str]:
        """The ids among ``channel_ids`` that are no channel of ``project``."""
        wanted = list(dict.fromkeys(channel_ids))
        if not wanted:
            return []
        with self._session() as s:
            known = set(
                s.scalars(
                    select(Channel.id).where(
                        Channel.project_id == project.id, Channel.id.in_(wanted)
                    )
                )
            )
        return [i for i in wanted if i not in known]

    def publish_targets(self, project: Project) -> list[str]:
        with self._session() as s:
            return publish_targets(s, project)

    def add(self, channel: Channel, project: Project) -> Channel:
        """Stores the channel and lists it among the project's channels."""
        with self._session() as s:
            s.add(channel)
            project.channels = [*(project.channels or []), channel.id]
            s.add(project)
            s.flush()
        self._changed(channel)
        return channel

    def delete(self, channel: Channel, project: Project) -> None:
        """Removes the channel and its id from the project's channels."""
        with self._session() as s:
            project.channels = [i for i in project.channels or [] if i != channel.id]
            s.add(project)
            s.delete(channel)
            s.flush()
        self._changed(channel)

    # tokens ---------------------------------------------------------------------------------

    def set_tokens(
        self,
        channel: Channel,
        *,
        access_token: str | None,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> None:
        """Seals and stores the channel's tokens; the channel can then publish."""
        cipher = self._require_cipher()
        sealed = {
            column: None
            if value is None
            else cipher.encrypt(value, org_id=channel.org_id, channel_id=channel.id, column=column)
            for column, value in zip(TOKEN_COLUMNS, (access_token, refresh_token), strict=True)
        }
        with self._session() as s:
            channel.access_token = sealed["access_token"]
            channel.refresh_token = sealed["refresh_token"]
            channel.token_expires_at = expires_at
            channel.state = ChannelState.ACTIVE
            channel.updated_at = utcnow()
            s.add(channel)
            s.flush()
        self._changed(channel)

    def tokens(self, channel: Channel) -> ChannelTokens:
        """The channel's tokens, opened (``TokenDecryptError`` when a ciphertext is not this
        channel's)."""
        cipher = self._require_cipher()
        opened = [
            None
            if sealed is None
            else cipher.decrypt(sealed, org_id=channel.org_id, channel_id=channel.id, column=column)
            for column, sealed in zip(
                TOKEN_COLUMNS, (channel.access_token, channel.refresh_token), strict=True
            )
        ]
        return ChannelTokens(opened[0], opened[1], aware(channel.token_expires_at))

    def _require_cipher(self) -> TokenCipher:
        if self._cipher is None:
            raise RuntimeError("this ChannelRepository was made without a token cipher")
        return self._cipher

    def _changed(self, channel: Channel) -> None:
        if self._on_change is not None:
            self._on_change(channel.org_id)
